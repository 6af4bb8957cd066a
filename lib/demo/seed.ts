// Demo data for the embedded default, made through the same paths production uses: Stripe calls
// through the gateway (to the simulator), events read back from Stripe's Events API and applied by
// the webhook intake, a payout run planned and executed by the run code. Nothing is inserted "by
// hand" except the payees themselves, so what a new user sees is what Payrun really does.
import { eq, sql } from "drizzle-orm";
import { closeAppDb, type Db, getDb } from "../../db/client";
import { payees, payoutSettings } from "../../db/schema";
import { createConnectedAccountForPayee } from "../accounts";
import { systemActor } from "../actor";
import type { Env } from "../env";
import { percentOf } from "../money";
import { cycleFor, latestCycle } from "../payouts/cycle";
import { continuePayoutRun, triggerPayoutRun } from "../payouts/run";
import { seedBillingDemo } from "./billing";
import { createPlacement } from "../placements/crud";
import { getStripeGateway } from "../stripe/client";
import type { StripeGateway } from "../stripe/gateway";
import type { StripeSimulator } from "../stripe/simulator";
import { backfillStripeEvents } from "../webhooks/backfill";
import { DEMO_PAYEE_ID, DEMO_USERS } from "./users";

export type DemoSimulator = Pick<
  StripeSimulator,
  "startClockAt" | "advanceClock" | "settlePayout" | "onboardAccount" | "configureWebhooks" | "webhookConfig" | "now"
>;

const DAY = 86_400;
const actor = systemActor("demo-seed");

type DemoPayee = {
  id: string;
  name: string;
  email: string;
  userId?: string;
  onboard: boolean;
  /** Destination charges (cents) before the demo run's cutoff, and after it. */
  earlier: number[];
  later: number[];
  /** How the demo run's payout to this payee ends at Stripe. */
  payoutOutcome?: { outcome: "paid" } | { outcome: "failed"; failureCode: string };
};

const demoPayees: DemoPayee[] = [
  {
    id: DEMO_PAYEE_ID,
    name: "Pat Payee",
    email: "payee@demo.payrun.local",
    userId: DEMO_USERS.find((u) => u.role === "payee")?.id,
    onboard: true,
    earlier: [8_000, 4_500],
    later: [5_000, 12_000, 3_500],
    payoutOutcome: { outcome: "paid" },
  },
  {
    id: "00000000-0000-4000-8000-00000000d002",
    name: "Rio Recruiter",
    email: "rio@demo.payrun.local",
    onboard: true,
    earlier: [20_000],
    later: [],
    payoutOutcome: { outcome: "paid" },
  },
  {
    id: "00000000-0000-4000-8000-00000000d003",
    name: "Flo Closed-Bank",
    email: "flo@demo.payrun.local",
    onboard: true,
    earlier: [6_000],
    later: [],
    payoutOutcome: { outcome: "failed", failureCode: "account_closed" },
  },
  {
    id: "00000000-0000-4000-8000-00000000d004",
    name: "Sam Small",
    email: "sam@demo.payrun.local",
    onboard: true,
    earlier: [500],
    later: [300],
  },
  {
    id: "00000000-0000-4000-8000-00000000d005",
    name: "Noor Newcomer",
    email: "noor@demo.payrun.local",
    onboard: false,
    earlier: [],
    later: [],
  },
];

/** Seed the demo once: does nothing when the database already has payees. */
export async function seedDemoIfEmpty(env: Env, options: { simulator?: DemoSimulator } = {}): Promise<boolean> {
  const db = await getDb();
  try {
    const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(payees);
    if ((row?.n ?? 0) > 0) return false;
    if (!options.simulator) {
      console.info("[payrun] demo data needs the local Stripe simulator; skipped (real Stripe configured)");
      return false;
    }
    console.info("[payrun] seeding demo data (payees, earnings, one completed payout run)...");
    const summary = await seedDemo(db, env, getStripeGateway(), options.simulator);
    console.info(`[payrun] demo data ready: ${summary}`);
    return true;
  } finally {
    // On the embedded default this process served the database while seeding; stop, so the app
    // serves it from its own process.
    await closeAppDb();
  }
}

export async function seedDemo(db: Db, env: Env, gateway: StripeGateway, simulator: DemoSimulator): Promise<string> {
  const now = new Date();
  const latest = latestCycle(now, env.PAYOUT_TIMEZONE);
  // The demo run pays the cycle before the latest one, so the latest is left for the user to run.
  const previous = latestCycle(new Date(latest.cutoffAt.getTime() - 1000), env.PAYOUT_TIMEZONE);
  const demoRunCycle = cycleFor(previous.cycleDate, env.PAYOUT_TIMEZONE);
  const historyStart = Math.floor(demoRunCycle.cutoffAt.getTime() / 1000) - 5 * DAY;

  // Keep the simulator's webhooks to ourselves while seeding: the server is not up yet, and the
  // Events API backfill below applies every event through the same intake.
  const webhookUrl = simulator.webhookConfig().url;
  simulator.configureWebhooks({ url: "" });
  simulator.startClockAt(historyStart);
  try {
    await db.insert(payees).values(
      demoPayees.map((p) => ({ id: p.id, displayName: p.name, email: p.email, userId: p.userId ?? null })),
    );
    await db.insert(payoutSettings).values(demoPayees.map((p) => ({ payeeId: p.id })));

    const accounts = new Map<string, string>();
    for (const payee of demoPayees) {
      const account = await createConnectedAccountForPayee(db, gateway, payee.id);
      accounts.set(payee.id, account.stripeAccountId);
      if (payee.onboard) simulator.onboardAccount(account.stripeAccountId);
    }
    await chargeAll(gateway, env, accounts, "earlier");
    await applyStripeEvents(db, env, gateway, historyStart);

    // The demo run: its cycle's cutoff has passed on the simulator's clock too.
    simulator.advanceClock(Math.floor(demoRunCycle.cutoffAt.getTime() / 1000) + 3600 - simulator.now());
    const run = await triggerPayoutRun(db, env, { cycleDate: demoRunCycle.cycleDate, trigger: "manual", actor });
    if (run.kind !== "run") throw new Error(`demo run did not start: ${run.kind}`);
    if (!run.chainId) throw new Error("demo run was not handed to this caller");
    for (let i = 0; i < 20; i++) {
      const step = await continuePayoutRun(db, env, gateway, { runId: run.runId, chainId: run.chainId, dispatch: false, actor });
      if (step.state === "done") break;
    }
    const sent = await db.execute(sql`select stripe_payout_id, payee_id from payouts
      where run_id = ${run.runId} and stripe_payout_id is not null`);
    const rows = (Array.isArray(sent) ? sent : (sent as { rows: unknown[] }).rows) as {
      stripe_payout_id: string;
      payee_id: string;
    }[];
    for (const row of rows) {
      const outcome = demoPayees.find((p) => p.id === row.payee_id)?.payoutOutcome ?? { outcome: "paid" as const };
      simulator.settlePayout(row.stripe_payout_id, outcome.outcome, outcome.outcome === "failed" ? outcome.failureCode : undefined);
    }

    // Newer earnings a few days before the latest cycle's cutoff, so the first run a user triggers
    // (the latest cycle, the default) pays them; then the present, and a recruiter's placements.
    const laterAt = Math.floor(latest.cutoffAt.getTime() / 1000) - 3 * DAY;
    simulator.advanceClock(Math.max(0, laterAt - simulator.now()));
    await chargeAll(gateway, env, accounts, "later");
    simulator.advanceClock(Math.max(0, Math.floor(now.getTime() / 1000) - 3600 - simulator.now()));
    await seedPlacements(db, env, gateway);
    await seedBillingDemo(db, gateway, { payeeId: demoPayees[1]!.id, currency: env.PLATFORM_DEFAULT_CURRENCY, timeZone: env.PAYOUT_TIMEZONE });
    await applyStripeEvents(db, env, gateway, historyStart);

    const [{ n } = { n: 0 }] = (await db
      .select({ n: sql<number>`count(*)::int` })
      .from(payees)
      .where(eq(payees.email, demoPayees[0]!.email))) as { n: number }[];
    return `${demoPayees.length} payees (${n} demo sign-in payee), a completed run for cycle ${demoRunCycle.cycleKey}, cycle ${latest.cycleKey} left to run`;
  } finally {
    simulator.advanceClock(Math.max(0, Math.floor(Date.now() / 1000) - simulator.now()));
    simulator.configureWebhooks({ url: webhookUrl ?? "" });
  }
}

async function chargeAll(gateway: StripeGateway, env: Env, accounts: Map<string, string>, when: "earlier" | "later") {
  for (const payee of demoPayees) {
    const destination = accounts.get(payee.id);
    if (!destination || !payee.onboard) continue;
    for (const [i, amount] of payee[when].entries()) {
      await gateway.createDestinationCharge({
        amount,
        currency: env.PLATFORM_DEFAULT_CURRENCY,
        destination,
        applicationFeeAmount: percentOf(amount, env.PLATFORM_FEE_PERCENT),
        // Stripe's test card whose funds are available at once, so the demo run can pay them.
        paymentMethod: "pm_card_bypassPending",
        description: `Demo order ${when} #${i + 1}`,
        idempotencyKey: `demo:${payee.id}:${when}:${i}`,
      });
    }
  }
}

async function seedPlacements(db: Db, env: Env, gateway: StripeGateway) {
  const recruiter = demoPayees[1]!;
  const client = await gateway.createCustomer({
    email: "hiring@acme.example",
    name: "Acme Corp",
    idempotencyKey: "demo:customer:acme",
  });
  const daysAgo = (n: number) => new Date(Date.now() - n * DAY * 1000).toISOString().slice(0, 10);
  // One whose 90-day guarantee has passed (the hourly sweeps complete and invoice it), one still running.
  for (const [startDate, candidateName] of [
    [daysAgo(95), "Jordan Lee"],
    [daysAgo(20), "Casey Kim"],
  ] as const) {
    await createPlacement(db, {
      input: {
        payeeId: recruiter.id,
        clientStripeCustomerId: client.id,
        clientName: "Acme Corp",
        candidateName,
        feeCents: 1_500_000,
        payeeShareCents: 1_200_000,
        currency: env.PLATFORM_DEFAULT_CURRENCY,
        startDate,
        guaranteeDays: 90,
      },
      actor,
      timeZone: env.PAYOUT_TIMEZONE,
    });
  }
}

async function applyStripeEvents(db: Db, env: Env, gateway: StripeGateway, sinceUnix: number) {
  const until = new Date(Date.now() + 60 * DAY * 1000);
  const since = new Date((sinceUnix - 60) * 1000);
  // The window is in the simulator's time; it must stay within the Events API's 30 days.
  const span = Math.min(until.getTime(), since.getTime() + 29 * DAY * 1000);
  await backfillStripeEvents(db, gateway, { since, until: new Date(span), env, gateway: () => gateway });
}
