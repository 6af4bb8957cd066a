import type { Env } from "../env";
import { DomainError } from "../errors";
import type { PlanConfig, PlanMap } from "../schemas/billing";
import type { StripeGateway } from "../stripe/gateway";

// The plan map comes from configuration (BILLING_PLANS or BILLING_PLANS_FILE, validated at start by
// lib/env.ts): a deployment changes price ids with no code change. Here: looking a plan up, and
// `npm run billing:check-plans`, which asks Stripe about every price the map names.

export type { PlanConfig, PlanMap };

/** The plan map, or a 412 when the deployment configured none. */
export function configuredPlans(env: Pick<Env, "billingPlans">): PlanMap {
  if (Object.keys(env.billingPlans).length === 0)
    throw new DomainError(
      "precondition_failed",
      "no billing plans are configured: set BILLING_PLANS or BILLING_PLANS_FILE (docs/BILLING.md)",
    );
  return env.billingPlans;
}

/** One plan by key; an unknown key is the caller's mistake (422), naming the plans there are. */
export function planOf(env: Pick<Env, "billingPlans">, key: string): PlanConfig {
  const plans = configuredPlans(env);
  const plan = Object.hasOwn(plans, key) ? plans[key] : undefined;
  if (!plan)
    throw new DomainError(
      "invalid_input",
      `no plan "${key}"; the plans are ${Object.keys(plans).join(", ")}`,
    );
  return plan;
}

/** Every price of a plan, base first: what a subscription on it carries. */
export function planPrices(plan: PlanConfig): string[] {
  return [plan.basePrice, ...Object.values(plan.meters)];
}

/** Whether a plan meters this event (a meter event name). */
export function planMeters(plan: PlanConfig, meter: string): boolean {
  return Object.hasOwn(plan.meters, meter);
}

export type PlanCheck = {
  plan: string;
  price: string;
  role: "base" | `meter ${string}`;
  ok: boolean;
  problem?: string;
};

/**
 * Asks Stripe for every price the map names: it must exist, be active, recurring on the plan's
 * interval in the plan's currency; the base licensed, each metered one metered on a meter whose
 * event_name is the meter's key. One line per price; `ok` false with the problem otherwise.
 */
export async function checkPlans(
  gateway: Pick<StripeGateway, "retrievePrice" | "retrieveMeter">,
  plans: PlanMap,
): Promise<PlanCheck[]> {
  const checks: PlanCheck[] = [];
  const meterEvents = new Map<string, string>();
  for (const [key, plan] of Object.entries(plans)) {
    const wanted: Array<{ price: string; role: PlanCheck["role"]; meter?: string }> = [
      { price: plan.basePrice, role: "base" },
      ...Object.entries(plan.meters).map(([meter, price]) => ({
        price,
        role: `meter ${meter}` as const,
        meter,
      })),
    ];
    for (const { price: id, role, meter } of wanted) {
      const problems: string[] = [];
      try {
        const price = await gateway.retrievePrice(id);
        if (!price.active) problems.push("is not active");
        if (price.currency !== plan.currency)
          problems.push(`currency is ${price.currency}, the plan says ${plan.currency}`);
        if (!price.recurring) problems.push("is not recurring");
        else {
          if (price.recurring.interval !== plan.interval || price.recurring.interval_count !== 1)
            problems.push(
              `bills every ${price.recurring.interval_count} ${price.recurring.interval}, the plan says every 1 ${plan.interval}`,
            );
          if (meter === undefined && price.recurring.usage_type !== "licensed")
            problems.push("the base price must be licensed, not metered");
          if (meter !== undefined) {
            if (price.recurring.usage_type !== "metered" || !price.recurring.meter)
              problems.push("is not metered on a billing meter");
            else {
              const meterId = price.recurring.meter;
              let eventName = meterEvents.get(meterId);
              if (eventName === undefined) {
                eventName = (await gateway.retrieveMeter(meterId)).event_name;
                meterEvents.set(meterId, eventName);
              }
              if (eventName !== meter)
                problems.push(`its meter ${meterId} counts "${eventName}", the plan says "${meter}"`);
            }
          }
        }
      } catch (error) {
        problems.push(error instanceof Error ? error.message : String(error));
      }
      checks.push({
        plan: key,
        price: id,
        role,
        ok: problems.length === 0,
        ...(problems.length ? { problem: problems.join("; ") } : {}),
      });
    }
  }
  return checks;
}
