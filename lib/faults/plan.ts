import type { EndpointFaults, FaultConfig } from "../stripe/simulator";
import { Rng } from "./prng";

// What one seed means: payees, money events and cycles to pay, and the faults to inject while doing
// it. Pure data drawn from the seed, so `--seed S --print-plan` shows a failing schedule exactly.

/** `debitCard`: an instant-eligible debit card on the connected account (instant payouts). */
export type PayeePlan = { onboarded: boolean; minimumPayoutCents?: number; debitCard?: boolean };

export type Activity =
  | { kind: "charge"; payee: number; grossCents: number }
  /** Refund part (or all) of the n-th charge made so far (modulo how many there are). */
  | { kind: "refund"; charge: number; fraction: number }
  /** A manual escrow hold; `releaseInPast` holds are due for the escrow-releases sweep at once. */
  | { kind: "hold"; payee: number; amountCents: number; releaseInPast: boolean }
  /** End the n-th manual hold by hand (modulo how many there are). */
  | { kind: "end_hold"; hold: number; outcome: "released" | "cancelled" }
  | { kind: "dispute"; charge: number; outcome: "won" | "lost" | "open" }
  /** A placement whose guarantee is over: invoiced by the sweeps, its share paid from the platform (a transfer). */
  | { kind: "placement"; payee: number; feeCents: number; shareCents: number }
  /** Clients pay every open placement invoice at Stripe. */
  | { kind: "clients_pay" }
  | { kind: "sweep"; name: SweepRoute }
  | { kind: "webhooks" }
  /** The payee takes its available balance now by instant payout (quote, then confirm). */
  | { kind: "instant"; payee: number };

export const SWEEPS = [
  "complete-expired-guarantees",
  "create-placement-invoices",
  "finalize-placement-invoices",
  "payout-schedules",
  "escrow-releases",
  "webhook-replays",
] as const;
export type SweepRoute = (typeof SWEEPS)[number];

/** From placement to money in available: the sweeps, the client paying, invoice.paid, the schedule. */
const PLACEMENT_PIPELINE: Activity[] = [
  { kind: "sweep", name: "complete-expired-guarantees" },
  { kind: "sweep", name: "create-placement-invoices" },
  { kind: "sweep", name: "finalize-placement-invoices" },
  { kind: "clients_pay" },
  { kind: "webhooks" },
  { kind: "sweep", name: "payout-schedules" },
];

export type CyclePlan = {
  cycleDate: string;
  activity: Activity[];
  /** Triggers of the run at once (QStash's schedule plus ops pressing the button, say). */
  concurrentTriggers: number;
  /** Webhook rounds and sweeps interleaved with the run's slices. */
  busyDuringRun: boolean;
  /** Payouts Stripe fails (payout.failed, e.g. account_closed) before the rest are paid. */
  stripeFailures: number;
  /** Ops retry the failed payouts (POST /internal/payouts/:id/retry). */
  opsRetry: boolean;
  /** A payee asks for an instant payout while the run is being triggered (the two race for one balance). */
  instantDuringRun?: number;
};

export type InvocationKind = "run" | "continue" | "webhook" | "sweep" | "retry" | "watchdog" | "instant";

export type FaultPlan = {
  seed: number;
  payees: PayeePlan[];
  cycles: CyclePlan[];
  env: {
    payoutRateLimit: number;
    perEndpointRateLimit: number;
    reservePercent: number;
    reserveDays: number;
  };
  stripeFaults: FaultConfig;
  /** Probability that an invocation is abandoned, and the largest boundary it may die at, per kind. */
  abandonRate: number;
  abandonWithin: Record<InvocationKind, number>;
  webhooks: { duplicateRate: number; reorder: boolean; lateRate: number; concurrent: boolean };
  continuations: { duplicateRate: number; lostAnswerRate: number };
};

const CYCLE_DATES = ["2030-01-01", "2030-01-15", "2030-02-01", "2030-02-15"];

function endpointFaults(rng: Rng, write: boolean): EndpointFaults {
  const faults: EndpointFaults = {};
  if (rng.chance(0.7)) {
    const min = rng.int(0, 40);
    faults.latencyMs = { min, max: min + rng.int(10, write ? 350 : 150) };
  }
  if (rng.chance(0.5)) faults.errorRate = rng.pick([0.05, 0.1, 0.2, 0.35]);
  if (rng.chance(0.3)) faults.lockTimeoutCount = rng.int(1, 4);
  if (rng.chance(0.5)) {
    faults.dropRate = rng.pick([0.05, 0.1, 0.2]);
    faults.dropPhase = write && rng.chance(0.7) ? "after" : "before";
  }
  if (write && rng.chance(0.3)) faults.rateLimitPerSecond = rng.int(2, 8);
  // An outage: the next N requests all fail (500), long enough for an attempt to give up and be
  // retried later, far too short for a payout to fail honestly after MAX_PAYOUT_ATTEMPTS attempts.
  if (write && rng.chance(0.25)) faults.errorCount = rng.int(30, 80);
  return faults;
}

export function planSchedule(seed: number): FaultPlan {
  const rng = new Rng(`payrun-faults:${seed}`);
  const shape = rng.stream("shape");
  // About one schedule in six is a big run: more payouts than one claim takes (64), at a fast payout
  // rate, so a slice ends with work still to claim and workers asking for more.
  const big = shape.chance(0.16);
  const payeeCount = big ? shape.int(66, 75) : shape.int(4, 14);
  const payees: PayeePlan[] = Array.from({ length: payeeCount }, () => ({
    onboarded: shape.chance(0.85),
    ...(shape.chance(0.15) ? { minimumPayoutCents: shape.pick([2_000, 5_000, 20_000]) } : {}),
  }));

  const cards = rng.stream("instant-cards");
  for (const payee of payees) if (cards.chance(0.6)) payee.debitCard = true;

  const cycleCount = big ? 1 : shape.pick([1, 2, 2, 3]);
  const cycles: CyclePlan[] = [];
  const money = rng.stream("money");
  let charges = 0;
  let holds = 0;
  for (let c = 0; c < cycleCount; c++) {
    // Every payee earns something before the first run, so runs are big enough to need several
    // slices at the slow payout rates below (that is where slice ends meet faults).
    const activity: Activity[] =
      c === 0 ? Array.from({ length: payeeCount }, (_, payee) => ({ kind: "charge" as const, payee, grossCents: money.int(15, 300) * 100 })) : [];
    charges += activity.length;
    const events = big ? money.int(5, 20) : money.int(payeeCount, payeeCount * 3);
    for (let i = 0; i < events; i++) {
      const roll = money.next();
      if (roll < 0.55 || charges === 0) {
        activity.push({ kind: "charge", payee: money.int(0, payeeCount - 1), grossCents: money.int(8, 300) * 100 + money.int(0, 99) });
        charges++;
      } else if (roll < 0.68) {
        activity.push({ kind: "refund", charge: money.int(0, charges - 1), fraction: money.pick([0.25, 0.5, 1]) });
      } else if (roll < 0.78) {
        activity.push({ kind: "hold", payee: money.int(0, payeeCount - 1), amountCents: money.int(5, 80) * 100, releaseInPast: money.chance(0.5) });
        holds++;
      } else if (roll < 0.82 && holds > 0) {
        activity.push({ kind: "end_hold", hold: money.int(0, holds - 1), outcome: money.pick(["released", "cancelled"] as const) });
      } else if (roll < 0.86) {
        activity.push({ kind: "dispute", charge: money.int(0, charges - 1), outcome: money.pick(["won", "lost", "open"] as const) });
      } else if (roll < 0.92) {
        const feeCents = money.int(50, 400) * 100;
        activity.push({ kind: "placement", payee: money.int(0, payeeCount - 1), feeCents, shareCents: Math.round(feeCents * money.pick([0.5, 0.7, 0.9])) });
      } else if (roll < 0.97) {
        activity.push(money.chance(0.3) ? { kind: "clients_pay" } : { kind: "sweep", name: money.pick(SWEEPS) });
      } else {
        activity.push({ kind: "webhooks" });
      }
    }
    activity.push(...PLACEMENT_PIPELINE, { kind: "webhooks" }, { kind: "sweep", name: "escrow-releases" });
    // Instant payouts come from streams of their own, so every other decision of a seed stays what it was.
    const instant = rng.stream("instant", c);
    const before = activity.length;
    for (let i = instant.int(0, 3); i > 0; i--)
      activity.splice(instant.int(0, before), 0, { kind: "instant", payee: instant.int(0, payeeCount - 1) });
    const instantDuringRun = instant.chance(0.4) ? instant.int(0, payeeCount - 1) : undefined;
    cycles.push({
      cycleDate: CYCLE_DATES[c]!,
      instantDuringRun,
      activity,
      concurrentTriggers: money.chance(0.4) ? money.int(2, 4) : 1,
      busyDuringRun: money.chance(0.6),
      stripeFailures: money.chance(0.35) ? money.int(1, 2) : 0,
      opsRetry: money.chance(0.6),
    });
  }

  const faults = rng.stream("faults");
  const stripeFaults: FaultConfig = {
    endpoints: {
      "POST /v1/transfers": endpointFaults(faults, true),
      "POST /v1/payouts": endpointFaults(faults, true),
      "GET /v1/transfers": endpointFaults(faults, false),
      "GET /v1/payouts": endpointFaults(faults, false),
      ...(faults.chance(0.5)
        ? {
            "POST /v1/invoices": endpointFaults(faults, true),
            "POST /v1/invoiceitems": endpointFaults(faults, true),
            "POST /v1/invoices/:id/finalize": endpointFaults(faults, true),
          }
        : {}),
    },
  };
  const calm = faults.chance(0.1); // a few schedules with no fault at all: the baseline must hold too
  return {
    seed,
    payees,
    cycles,
    env: {
      // Mostly slow enough that a run of a few payees needs more than one slice of ~3.3 s.
      payoutRateLimit: big ? faults.pick([8, 10, 15]) : faults.pick([1, 1, 1, 2, 2, 3, 5, 10]),
      // Big runs keep Stripe's own per-endpoint limit: a claim of 64 reclaimed payouts must be
      // looked up within one short slice (with 3.3 s slices and 6/s, no production setting, a run
      // crawls at a payout or two per slice).
      perEndpointRateLimit: big ? 25 : faults.int(4, 25),
      reservePercent: faults.chance(0.3) ? faults.pick([5, 10]) : 0,
      reserveDays: faults.pick([0, 30]),
    },
    stripeFaults: calm ? {} : stripeFaults,
    abandonRate: calm ? 0 : faults.pick([0, 0.1, 0.2, 0.35, 0.5]),
    // Most of a slice's statements are its first claims and payouts: dying there leaves leases behind.
    abandonWithin: { run: 60, continue: 40, webhook: 12, sweep: 20, retry: 8, watchdog: 20, instant: 16 },
    webhooks: {
      duplicateRate: calm ? 0 : faults.pick([0, 0.1, 0.3]),
      reorder: !calm && faults.chance(0.6),
      lateRate: calm ? 0 : faults.pick([0, 0.2, 0.4]),
      concurrent: faults.chance(0.5),
    },
    continuations: {
      duplicateRate: calm ? 0 : faults.pick([0, 0.15, 0.3]),
      lostAnswerRate: calm ? 0 : faults.pick([0, 0.1, 0.25]),
    },
  };
}

/**
 * The least time a schedule's planned outages take to get through: every request of an outage
 * ("the next N requests fail") takes a limiter slot, so N requests at the endpoint's paced rate
 * (95% of its limit) cannot pass faster, whatever Payrun does. Payouts are paced by the payout
 * limit, other writes by the per-endpoint one. The runner adds this to its liveness budget, so a
 * schedule that is slow because its plan makes it slow is not mistaken for a hang.
 */
export function outageFloorMs(plan: FaultPlan): number {
  let floor = 0;
  for (const [endpoint, faults] of Object.entries(plan.stripeFaults.endpoints ?? {})) {
    if (!faults.errorCount) continue;
    const rate = endpoint === "POST /v1/payouts" ? Math.min(plan.env.payoutRateLimit, plan.env.perEndpointRateLimit) : plan.env.perEndpointRateLimit;
    floor += (faults.errorCount / (rate * 0.95)) * 1000;
  }
  return Math.round(floor);
}
