import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkPlans } from "@/lib/billing/plans";
import { loadEnv } from "@/lib/env";
import { startTestStripe, type TestStripe } from "../support/stripe";

// npm run billing:check-plans: every price of the plan map asked of Stripe (the simulator, which
// seeds the prices its default map names).

let stripe: TestStripe;
beforeAll(async () => {
  stripe = await startTestStripe({ maxRetries: 0 });
});
afterAll(() => stripe.close());

describe("checkPlans", () => {
  it("passes the simulator's own plan map: the prices are seeded", async () => {
    const checks = await checkPlans(stripe.gateway, loadEnv({}).billingPlans);
    expect(checks.length).toBe(8);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  });

  it("names each wrong price: missing, another currency or interval, licensed where metered, another meter", async () => {
    const checks = await checkPlans(stripe.gateway, {
      bad: {
        currency: "eur",
        interval: "year",
        basePrice: "price_sim_starter_placements",
        meters: {
          api_calls: "price_sim_starter_placements",
          placements: "price_missing",
          seats: "price_sim_starter_base",
        },
      },
    });
    const byRole = Object.fromEntries(checks.map((c) => [c.role, c.problem]));
    expect(byRole.base).toMatch(
      /currency is usd, the plan says eur.*every 1 month, the plan says every 1 year.*must be licensed/,
    );
    expect(byRole["meter api_calls"]).toMatch(/counts "placements", the plan says "api_calls"/);
    expect(byRole["meter placements"]).toMatch(/No such price/);
    expect(byRole["meter seats"]).toMatch(/not metered/);
  });
});
