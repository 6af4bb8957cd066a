import { sql } from "drizzle-orm";
import { NextRequest } from "next/server";
import Stripe from "stripe";
import { POST as continueRoute } from "../../app/internal/payouts/continue/route";
import { POST as retryRoute } from "../../app/internal/payouts/[payoutId]/retry/route";
import { POST as runRoute } from "../../app/internal/payouts/run/route";
import { POST as watchdogRoute } from "../../app/internal/payouts/watchdog/route";
import { POST as completeGuaranteesRoute } from "../../app/internal/sweeps/complete-expired-guarantees/route";
import { POST as createInvoicesRoute } from "../../app/internal/sweeps/create-placement-invoices/route";
import { POST as escrowReleasesRoute } from "../../app/internal/sweeps/escrow-releases/route";
import { POST as finalizeInvoicesRoute } from "../../app/internal/sweeps/finalize-placement-invoices/route";
import { POST as payoutSchedulesRoute } from "../../app/internal/sweeps/payout-schedules/route";
import { POST as instantPayoutsRoute } from "../../app/internal/sweeps/instant-payouts/route";
import { POST as webhookReplaysRoute } from "../../app/internal/sweeps/webhook-replays/route";
import { POST as webhookRoute } from "../../app/webhooks/stripe/route";
import { type Db, queryRows, setAppDb } from "../../db/client";
import { createConnectedAccountForPayee } from "../accounts/onboarding";
import { systemActor } from "../actor";
import { getEnv, resetEnvCache } from "../env";
import { DomainError } from "../errors";
import { quoteInstantPayout, requestInstantPayout } from "../instant-payouts";
import { errorText } from "../observability/log";
import { createEscrowHold, endEscrowHold } from "../escrow/holds";
import { createPayee, updatePayoutSettings } from "../payees/admin-crud";
import { createPlacement } from "../placements/crud";
import { createStripeClient, getStripeGateway, resetStripeClient } from "../stripe/client";
import { createStripeGateway } from "../stripe/gateway";
import { type StripeSimulator, startStripeSimulator } from "../stripe/simulator";
import { type AbandonPlan, Invocation, runInvocation } from "./abandon";
import type { Activity, CyclePlan, FaultPlan, InvocationKind, SweepRoute } from "./plan";
import { Rng } from "./prng";
import { type QStashStandIn, type QueuedMessage, startQStashStandIn } from "./qstash";

// One schedule against the real route handlers, in this process: Payrun's database (a scratch copy),
// the Stripe simulator with the plan's faults, a QStash stand-in that keeps the continuations the app
// publishes, and Stripe's webhooks pulled from the simulator's Events API and delivered by the suite
// itself, duplicated, reordered and late as the plan says. Every call into the app is an invocation
// that may be abandoned at a statement boundary (abandon.ts); the suite then carries on as Vercel and
// QStash would. At the end faults stop, everything is delivered, and the invariants are checked.

const CRON_SECRET = "faults-cron-secret-0123456789";
const PLATFORM_SECRET = "whsec_faults_platform";
const CONNECT_SECRET = "whsec_faults_connect";
const APP_URL = "http://payrun.faults.invalid";
/** QStash stops redelivering a message after this many failed deliveries (retries: 3 in dispatch.ts). */
const QSTASH_MAX_DELIVERIES = 4;
/** Rounds of continuations, webhooks and stalls in a row without a payout settling: the run is stuck. */
const MAX_IDLE_ROUNDS = 120;
/** Real time an idle round waits: 120 of them are half a minute, far past any back-off of the limiter. */
const IDLE_ROUND_MS = 250;
/** Reclaims of one payout by one slice that end a schedule at once (the invariant allows 2 claims). */
const HOT_RECLAIMS = 5;

/** A violation seen while the schedule runs that makes going on pointless. */
export class ScheduleStopped extends Error {}

export type ScheduleStats = {
  invocations: number;
  abandoned: number;
  webhookDeliveries: number;
  continuations: number;
  resumes: number;
  virtualSeconds: number;
  stripeRequests: number;
  stripeFaults: number;
};

export type WorldFacts = {
  simulator: StripeSimulator;
  charges: {
    paymentIntentId: string;
    chargeId: string;
    payeeIndex: number;
    grossCents: number;
    feeCents: number;
  }[];
  payees: { id: string; accountId: string }[];
  /** Liveness: runs that never finished, and events that were never applied. */
  stuck: string[];
};

type Answer = { abandoned: false; status: number; body: unknown } | { abandoned: true; diedAt: string };

type MailboxEntry = { event: Stripe.Event; applied: boolean; deliveries: number };

/** The watchdog's schedule (WATCHDOG_CRON, every two minutes), plus a second. */
const WATCHDOG_PERIOD_MS = 2 * 60_000 + 1_000;

export class ScheduleRun {
  readonly stats: ScheduleStats = {
    invocations: 0,
    abandoned: 0,
    webhookDeliveries: 0,
    continuations: 0,
    resumes: 0,
    virtualSeconds: 0,
    stripeRequests: 0,
    stripeFaults: 0,
  };
  private readonly rng: Rng;
  private simulator!: StripeSimulator;
  private qstash!: QStashStandIn;
  /** The suite's own Stripe client (no faults are planned on what it calls; it retries anyway). */
  private stripe!: Stripe;
  private offsetMs = 0;
  private healing = false;
  private readonly counters = new Map<string, number>();
  private readonly mailbox = new Map<string, MailboxEntry>();
  private readonly charges: WorldFacts["charges"] = [];
  private readonly holds: string[] = [];
  private clientCustomer?: string;
  private clockColumns?: { table_name: string; column_name: string }[];
  private readonly payees: WorldFacts["payees"] = [];
  private readonly stuck: string[] = [];
  private eventsSince = 0;

  constructor(
    private readonly plan: FaultPlan,
    private readonly db: Db,
    private readonly log: (line: string) => void,
  ) {
    this.rng = new Rng(`payrun-faults:${plan.seed}:run`);
  }

  /** Virtual time: real time plus the time the suite let pass (leases, QStash delays). */
  private clock = () => Date.now() + this.offsetMs;

  async start(): Promise<void> {
    this.simulator = await startStripeSimulator({ port: 0 });
    this.qstash = await startQStashStandIn(this.clock);
    this.stripe = createStripeClient({
      secretKey: "sk_test_faults",
      apiBaseUrl: this.simulator.url,
      maxNetworkRetries: 10,
    });
    const { env } = this.plan;
    Object.assign(process.env, {
      NODE_ENV: "test",
      CRON_SECRET_KEY: CRON_SECRET,
      STRIPE_SECRET_KEY: "sk_test_simulator",
      STRIPE_API_BASE_URL: this.simulator.url,
      STRIPE_WEBHOOK_SECRET: PLATFORM_SECRET,
      STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_SECRET,
      APP_BASE_URL: APP_URL,
      QSTASH_TOKEN: this.qstash.token,
      QSTASH_URL: this.qstash.url,
      PAYOUT_TIMEZONE: "UTC",
      PAYOUT_MIN_THRESHOLD_CENTS: "1000",
      // The smallest maxDuration the app accepts: slices of ~3.3 s, so runs cross slice boundaries.
      PAYOUT_FUNCTION_MAX_DURATION_SECONDS: "10",
      STRIPE_PAYOUT_RATE_LIMIT: String(env.payoutRateLimit),
      STRIPE_RATE_LIMIT_PER_ENDPOINT: String(env.perEndpointRateLimit),
      PAYOUT_RESERVE_PERCENT: String(env.reservePercent),
      PAYOUT_RESERVE_DAYS: String(env.reserveDays),
      PLACEMENT_CLEARING_DELAY_HOURS: "0",
    });
    for (const name of [
      "DATABASE_URL",
      "QSTASH_CURRENT_SIGNING_KEY",
      "QSTASH_NEXT_SIGNING_KEY",
      "SLACK_PAYOUT_WEBHOOK_URL",
      "SENTRY_DSN",
      "PAYOUTS_PAUSED",
    ])
      delete process.env[name];
    resetEnvCache();
    resetStripeClient();
    setAppDb(this.db);
  }

  async stop(): Promise<void> {
    await this.qstash?.close();
    await this.simulator?.close();
  }

  facts(): WorldFacts {
    return { simulator: this.simulator, charges: this.charges, payees: this.payees, stuck: this.stuck };
  }

  // ---------------------------------------------------------------------------------------------
  // The schedule

  async run(): Promise<void> {
    try {
      await this.setUpPayees();
      this.simulator.setFaults(this.plan.stripeFaults);
      for (const [index, cycle] of this.plan.cycles.entries()) {
        this.log(
          `cycle ${index + 1}/${this.plan.cycles.length} (${cycle.cycleDate}): ${cycle.activity.length} activities, ${cycle.concurrentTriggers} trigger(s)`,
        );
        for (const activity of cycle.activity) await this.activity(activity);
        await this.payCycle(cycle);
        await this.settleAtStripe(cycle);
      }
      await this.heal();
    } finally {
      const log = this.simulator.requests(0, Number.MAX_SAFE_INTEGER);
      this.stats.stripeRequests = log.length;
      this.stats.stripeFaults = log.filter((r) => r.fault).length;
      this.stats.virtualSeconds = Math.round(this.offsetMs / 1000);
    }
  }

  private async setUpPayees(): Promise<void> {
    const admin = systemActor("fault-suite");
    const gateway = createStripeGateway(this.stripe);
    for (const [index, plan] of this.plan.payees.entries()) {
      const payee = await createPayee(this.db, {
        input: {
          displayName: `Payee ${index}`,
          email: `payee${index}-${this.plan.seed}@faults.example`,
          country: "US",
          defaultCurrency: "usd",
        },
        actor: admin,
      });
      const account = await createConnectedAccountForPayee(this.db, gateway, payee.id, admin);
      if (plan.minimumPayoutCents !== undefined) {
        await updatePayoutSettings(this.db, {
          payeeId: payee.id,
          input: { minimumPayoutCents: plan.minimumPayoutCents },
          actor: admin,
        });
      }
      if (plan.onboarded) this.simulator.onboardAccount(account.stripeAccountId);
      if (plan.debitCard) this.simulator.addDebitCard(account.stripeAccountId);
      this.payees.push({ id: payee.id, accountId: account.stripeAccountId });
    }
    // account.updated says who finished onboarding; delivered like any other webhook.
    await this.deliverWebhooks();
  }

  private async activity(activity: Activity): Promise<void> {
    const admin = systemActor("fault-suite");
    switch (activity.kind) {
      case "charge": {
        const payee = this.payees[activity.payee]!;
        const fee = Math.round(activity.grossCents / 10);
        try {
          const intent = this.simulator.createDestinationCharge({
            destination: payee.accountId,
            amount: activity.grossCents,
            applicationFeeAmount: fee,
          });
          this.charges.push({
            paymentIntentId: intent.id,
            chargeId: String(intent.latest_charge),
            payeeIndex: activity.payee,
            grossCents: activity.grossCents,
            feeCents: fee,
          });
        } catch (error) {
          // An account that never finished onboarding cannot take charges; nothing was made.
          this.log(`charge to payee ${activity.payee} refused: ${(error as Error).message}`);
        }
        return;
      }
      case "refund": {
        const charge = this.pickCharge(activity.charge);
        if (!charge) return;
        const refundable = charge.grossCents - (await this.refundedSoFar(charge.chargeId));
        const amount = Math.min(refundable, Math.max(1, Math.round(charge.grossCents * activity.fraction)));
        if (amount <= 0) return;
        await this.stripe.refunds.create(
          { charge: charge.chargeId, amount },
          { idempotencyKey: `faults-refund-${charge.chargeId}-${amount}-${this.next("refund")}` },
        );
        return;
      }
      case "hold": {
        const payee = this.payees[activity.payee]!;
        const releaseAt = new Date(Date.now() + (activity.releaseInPast ? -60_000 : 30 * 86_400_000));
        try {
          const hold = await createEscrowHold(this.db, {
            payeeId: payee.id,
            amountCents: activity.amountCents,
            reason: "fault suite hold",
            releaseAt,
            actor: admin,
          });
          this.holds.push(hold.id);
        } catch (error) {
          // Refused (409) when available cannot cover it: nothing was written.
          this.log(`hold on payee ${activity.payee} refused: ${(error as Error).message}`);
        }
        return;
      }
      case "end_hold": {
        const holdId = this.holds[activity.hold % Math.max(1, this.holds.length)];
        if (!holdId) return;
        await endEscrowHold(this.db, { id: holdId, outcome: activity.outcome, actor: admin }).catch(
          (error: Error) => this.log(`ending hold refused: ${error.message}`),
        );
        return;
      }
      case "dispute": {
        const charge = this.pickCharge(activity.charge);
        const disputed = charge && this.simulator.getObject(charge.chargeId);
        // Not on a refunded charge: the simulator then disputes only the unrefunded rest (0 when
        // all of it was refunded), where Stripe disputes the charge's amount (see the report).
        if (!disputed || disputed.disputed || Number(disputed.amount_refunded) > 0) return;
        const dispute = this.simulator.createDispute(charge!.chargeId);
        if (activity.outcome !== "open") this.simulator.resolveDispute(dispute.id, activity.outcome);
        return;
      }
      case "placement": {
        const payee = this.payees[activity.payee]!;
        this.clientCustomer ??= (
          await this.stripe.customers.create({ name: "Fault Suite Client", email: "billing@client.example" })
        ).id;
        await createPlacement(this.db, {
          input: {
            payeeId: payee.id,
            clientStripeCustomerId: this.clientCustomer,
            feeCents: activity.feeCents,
            payeeShareCents: activity.shareCents,
            currency: "usd",
            startDate: new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 10),
            guaranteeDays: 30,
          },
          actor: admin,
          timeZone: "UTC",
        });
        return;
      }
      case "clients_pay": {
        for await (const invoice of this.stripe.invoices.list({ status: "open", limit: 100 })) {
          await this.stripe.invoices.pay(invoice.id!, {}, { idempotencyKey: `faults-pay-${invoice.id}` });
        }
        return;
      }
      case "sweep":
        await this.sweep(activity.name);
        return;
      case "webhooks":
        await this.deliverWebhooks();
        return;
      case "instant":
        await this.instantPayout(activity.payee);
        return;
    }
  }

  /**
   * A payee takes its balance now: the quote, then the confirmation with the quoted amount and fee
   * and a key of its own. A confirmation that got no answer (the invocation died, a 5xx) is sent
   * again with the same key, as a client would; what the dead one left processing, the
   * instant-payouts sweep finishes. Called through lib/instant-payouts as the route does: the suite
   * has no signed-in user to make a bearer token for.
   */
  private async instantPayout(payeeIndex: number): Promise<void> {
    const payee = this.payees[payeeIndex]!;
    const requestKey = `faults-instant-${this.plan.seed}-${this.next("instant")}`;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const answer = await this.invoke("instant", async () => {
        const env = getEnv();
        try {
          const quote = await quoteInstantPayout(this.db, getStripeGateway(), env, { payeeId: payee.id, currency: "usd" });
          if (!quote.eligible) return Response.json({ notEligible: quote.reason });
          const { payout } = await requestInstantPayout(this.db, getStripeGateway(), env, {
            payeeId: payee.id,
            currency: "usd",
            amountCents: quote.amountCents,
            expectedFeeCents: quote.feeCents,
            requestKey,
            actor: systemActor(`payee:${payeeIndex}`),
          });
          return Response.json({ id: payout.id, status: payout.status, amountCents: payout.amountCents, feeCents: payout.feeCents });
        } catch (error) {
          if (error instanceof DomainError) return Response.json({ refused: error.message }, { status: 409 });
          return Response.json({ error: errorText(error) }, { status: 500 });
        }
      });
      if (answer.abandoned) {
        this.log(`instant payout for payee ${payeeIndex} abandoned ${answer.diedAt}`);
        continue;
      }
      this.log(`instant payout for payee ${payeeIndex} answered ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
      if (answer.status < 500) return;
    }
  }

  private pickCharge(n: number) {
    return this.charges.length ? this.charges[n % this.charges.length] : undefined;
  }

  private async refundedSoFar(chargeId: string): Promise<number> {
    const charge = await this.stripe.charges.retrieve(chargeId);
    return charge.amount_refunded;
  }

  /** The cycle's run: triggered (maybe several times at once), then driven until it is done. */
  private async payCycle(cycle: CyclePlan): Promise<void> {
    const triggers = Array.from({ length: cycle.concurrentTriggers }, () => this.trigger(cycle.cycleDate));
    const busy = cycle.busyDuringRun ? this.busyWork() : Promise.resolve();
    // A payee asking for an instant payout as the run plans: one of the two takes the balance.
    const instant = cycle.instantDuringRun === undefined ? Promise.resolve() : this.instantPayout(cycle.instantDuringRun);
    await Promise.all([...triggers, busy, instant]);
    await this.drive(cycle.busyDuringRun);
  }

  /** QStash's schedule firing POST /internal/payouts/run; a delivery that fails is delivered again. */
  private async trigger(cycleDate: string): Promise<void> {
    for (let delivery = 1; delivery <= QSTASH_MAX_DELIVERIES; delivery++) {
      const answer = await this.invoke("run", () =>
        runRoute(this.request("/internal/payouts/run", { cycleDate }), ctx()),
      );
      if (!answer.abandoned && answer.status < 300) {
        this.log(`run ${cycleDate} answered ${answer.status} ${JSON.stringify(answer.body)}`);
        return;
      }
      await this.afterFailedDelivery(answer, "run trigger");
    }
  }

  /** What QStash does between two deliveries of a message that failed: time passes (its back-off). */
  private async afterFailedDelivery(answer: Answer, what: string): Promise<void> {
    if (answer.abandoned) this.log(`${what} abandoned ${answer.diedAt}`);
    else this.log(`${what} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`);
    await this.passTime(this.rng.stream("qstash-backoff", this.next("backoff")).int(5, 60) * 1000);
  }

  /** Webhook rounds and sweeps while the run's slices go on. */
  private async busyWork(): Promise<void> {
    const rng = this.rng.stream("busy", this.next("busy"));
    for (let i = rng.int(1, 3); i > 0; i--) {
      await new Promise((r) => setTimeout(r, rng.int(0, 400)));
      if (rng.chance(0.5)) await this.deliverWebhooks();
      else await this.sweep(rng.pick(["escrow-releases", "webhook-replays"] as const));
    }
  }

  /**
   * Deliver due continuations (QStash), with webhooks and sweeps in between when `busy`, until no
   * run is planning or executing and nothing is queued. When nothing is due, time passes to the next
   * delayed message; when nothing is queued at all but a run is unfinished, the run has stalled.
   */
  private async drive(busy: boolean): Promise<void> {
    let settled = await this.settledPayouts();
    for (let round = 0, idle = 0; idle < MAX_IDLE_ROUNDS; round++, idle++) {
      await this.stopOnHotReclaims();
      const now = await this.settledPayouts();
      if (now > settled) {
        settled = now;
        idle = 0;
      } else if (idle > 0) {
        // Some waits are in real time, not in the database (the rate limiter's back-off after 429s):
        // a round that settled nothing lets a little real time pass, as QStash's delivery would.
        await new Promise((r) => setTimeout(r, IDLE_ROUND_MS));
      }
      const due = this.qstash.due(this.clock());
      if (due.length > 0) {
        await Promise.all([
          this.deliverMessages(due),
          busy && this.rng.stream("busy-round", round).chance(0.3) ? this.busyWork() : undefined,
        ]);
        continue;
      }
      const open = this.qstash.open();
      if (open.length > 0) {
        await this.passTime(Math.max(0, Math.min(...open.map((m) => m.notBefore)) - this.clock()) + 1);
        continue;
      }
      const live = await this.liveRuns();
      if (live.length === 0) return;
      await this.resumeStalledRuns(live);
    }
    const live = await this.liveRuns();
    if (live.length > 0)
      this.stuck.push(
        ...live.map(
          (r) =>
            `run ${r.cycle_key} still ${r.status} after ${MAX_IDLE_ROUNDS} rounds without a payout settled`,
        ),
      );
  }

  private async settledPayouts(): Promise<number> {
    const [row] = await queryRows<{ n: string }>(
      this.db,
      sql`select count(*) as n from payouts where status not in ('planned', 'processing')`,
    );
    return Number(row?.n ?? 0);
  }

  /**
   * A slice taking the same payout back again and again (issue 11, defect 2) can keep a run crawling
   * for minutes; the first sight of it ends the schedule with that violation rather than the timeout.
   */
  private async stopOnHotReclaims(): Promise<void> {
    const [hot] = await queryRows<{ payout_id: string; owner: string; claims: string }>(
      this.db,
      sql`select entity_id as payout_id, after->>'leaseOwner' as owner, count(*) as claims
          from audit_log where action = 'payout.reclaimed' and entity_type = 'payout'
          group by entity_id, after->>'leaseOwner' having count(*) > ${HOT_RECLAIMS} limit 1`,
    );
    if (hot) {
      throw new ScheduleStopped(
        `payout ${hot.payout_id}: reclaimed ${hot.claims} times by one slice (${hot.owner}): attempts counted that Stripe never saw; schedule stopped early`,
      );
    }
  }

  /**
   * What brings back a run whose invocation died with nothing queued after it: the run watchdog,
   * which QStash fires every two minutes (WATCHDOG_CRON); by then the run's heartbeat is more than a
   * slice old, so the watchdog takes it over with a new chain.
   */
  private async resumeStalledRuns(live: { cycle_key: string; status: string }[]): Promise<void> {
    this.stats.resumes++;
    this.log(`stalled: ${live.map((r) => `${r.cycle_key} ${r.status}`).join(", ")}; the watchdog fires`);
    await this.passTime(WATCHDOG_PERIOD_MS);
    const answer = await this.invoke("watchdog", () =>
      watchdogRoute(this.request("/internal/payouts/watchdog", {}), ctx()),
    );
    if (answer.abandoned) this.log(`watchdog abandoned ${answer.diedAt}`);
    else this.log(`watchdog answered ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
  }

  private async liveRuns() {
    return queryRows<{ cycle_key: string; cycle_date: string; status: string }>(
      this.db,
      sql`select cycle_key, cycle_date::text as cycle_date, status from payout_runs where status in ('planning', 'executing') and not dry_run`,
    );
  }

  private async deliverMessages(messages: QueuedMessage[]): Promise<void> {
    const { duplicateRate, lostAnswerRate } = this.plan.continuations;
    for (const message of messages) {
      const rng = this.rng.stream("continuation", message.id);
      const copies = !this.healing && rng.chance(duplicateRate) ? 2 : 1;
      message.deliveries++;
      this.stats.continuations += copies;
      const answers = await Promise.all(Array.from({ length: copies }, () => this.deliverMessage(message)));
      for (const a of answers)
        if (!a.abandoned)
          this.log(`${message.path} answered ${a.status} ${JSON.stringify(a.body).slice(0, 300)}`);
      const ok = answers.some((a) => !a.abandoned && a.status < 300);
      const lost = !this.healing && rng.chance(lostAnswerRate);
      if (ok && !lost) {
        message.acknowledged = true;
        continue;
      }
      if (message.deliveries >= QSTASH_MAX_DELIVERIES) {
        // QStash gives up (dead-letter queue); whatever it was meant to continue has to be found again.
        message.acknowledged = true;
        this.log(`message ${message.path} dead-lettered after ${message.deliveries} deliveries`);
        continue;
      }
      message.notBefore = this.clock() + rng.int(5, 60) * 1000;
      const answer = answers.find((a) => a.abandoned || a.status >= 300) ?? answers[0]!;
      if (answer.abandoned) this.log(`continuation ${message.path} abandoned ${answer.diedAt}`);
    }
  }

  private deliverMessage(message: QueuedMessage): Promise<Answer> {
    if (message.path === "/internal/payouts/continue") {
      return this.invoke("continue", () =>
        continueRoute(this.request(message.path, JSON.parse(message.body)), ctx()),
      );
    }
    const sweep = message.path.match(/^\/internal\/sweeps\/(.+)$/)?.[1] as SweepRoute | undefined;
    if (sweep)
      return this.invoke("sweep", () =>
        sweepRoute(sweep)(this.request(message.path, JSON.parse(message.body)), ctx()),
      );
    throw new Error(`the fault suite has no route for ${message.path}`);
  }

  private async sweep(name: SweepRoute | "instant-payouts"): Promise<void> {
    const answer = await this.invoke("sweep", () => sweepRoute(name)(this.request(`/internal/sweeps/${name}`, {}), ctx()));
    if (answer.abandoned) this.log(`sweep ${name} abandoned ${answer.diedAt}`);
  }

  /** At Stripe, days later: some payouts fail (the bank says no), the rest are paid; ops may retry. */
  private async settleAtStripe(cycle: CyclePlan): Promise<void> {
    const rng = this.rng.stream("settle", cycle.cycleDate);
    // Stripe's view, not the ledger's: a payout.paid the suite holds back leaves the ledger behind.
    const open = this.simulator
      .requests(0, Number.MAX_SAFE_INTEGER)
      .filter((r) => r.endpoint === "POST /v1/payouts" && r.status < 400)
      .flatMap((r) => r.createdIds.filter((id) => id.startsWith("po_")))
      .filter((id, i, all) => all.indexOf(id) === i)
      .filter((id) => ["pending", "in_transit"].includes(String(this.simulator.getObject(id)?.status)));
    const failing = new Set(rng.shuffle(open).slice(0, cycle.stripeFailures));
    // Settled through the simulator's control API rather than by moving its clock days ahead: the
    // app compares event times with its own clock (the clearing delay, for one).
    for (const id of open) {
      if (failing.has(id))
        this.simulator.settlePayout(
          id,
          "failed",
          rng.pick(["account_closed", "no_account", "could_not_process"]),
        );
      else this.simulator.settlePayout(id, "paid");
    }
    await this.deliverWebhooks();
    if (!cycle.opsRetry) return;
    await this.deliverWebhooks();
    const failed = await queryRows<{ id: string }>(
      this.db,
      sql`select id from payouts where status = 'failed' order by id`,
    );
    for (const { id } of failed) {
      // Ops press retry again when the first press got no answer (a 409 then says it went through).
      for (let press = 0; press < 3; press++) {
        const answer = await this.invoke("retry", () =>
          retryRoute(
            this.request(`/internal/payouts/${id}/retry`, { reason: "fault suite: bank details fixed" }),
            ctx({ payoutId: id }),
          ),
        );
        if (!answer.abandoned) break;
        this.log(`retry of ${id} abandoned ${answer.diedAt}`);
      }
    }
    await this.drive(false);
  }

  /**
   * Faults stop; every webhook is delivered until Stripe would stop, the replay and escrow sweeps
   * run, and every run is driven to its end. What is still unfinished after that is stuck.
   */
  private async heal(): Promise<void> {
    this.healing = true;
    this.simulator.setFaults({});
    for (let round = 0; round < 6; round++) {
      await this.deliverWebhooks();
      // Wait out every lease and retry delay a dead invocation or a failed attempt left behind (the
      // longest: an escrow release retried after an hour); the replay sweep also leaves events
      // received in the last minute alone.
      await this.passTime(61 * 60_000);
      await this.sweep("webhook-replays");
      for (const name of [
        "complete-expired-guarantees",
        "create-placement-invoices",
        "finalize-placement-invoices",
      ] as const)
        await this.sweep(name);
      await this.activity({ kind: "clients_pay" });
      await this.deliverWebhooks();
      await this.sweep("payout-schedules");
      await this.sweep("escrow-releases");
      // Instant payouts an invocation left processing: their leases ran out above.
      await this.sweep("instant-payouts");
      await this.drive(false);
      await this.deliverWebhooks();
      const waiting = await this.unappliedEvents();
      if (
        waiting.length === 0 &&
        [...this.mailbox.values()].every((m) => m.applied) &&
        this.qstash.open().length === 0
      )
        break;
    }
    for (const event of await this.unappliedEvents())
      this.stuck.push(
        `event ${event.event_id} (${event.type}) left ${event.status}: ${event.last_error ?? ""}`,
      );
    for (const entry of this.mailbox.values())
      if (!entry.applied) this.stuck.push(`event ${entry.event.id} (${entry.event.type}) never answered 2xx`);
    await this.drive(false);
  }

  private unappliedEvents() {
    return queryRows<{ event_id: string; type: string; status: string; last_error: string | null }>(
      this.db,
      sql`select event_id, type, status, last_error from processor_events where status in ('failed', 'pending', 'received') order by received_at`,
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Webhooks: pulled from the simulator's Events API, delivered as the plan says

  private async pullEvents(): Promise<void> {
    const since = this.eventsSince;
    const accounts: (string | undefined)[] = [undefined, ...this.payees.map((p) => p.accountId)];
    let newest = since;
    for (const account of accounts) {
      for await (const event of this.stripe.events.list(
        { limit: 100, created: { gte: since } },
        account ? { stripeAccount: account } : {},
      )) {
        newest = Math.max(newest, event.created);
        if (!this.mailbox.has(event.id)) this.mailbox.set(event.id, { event, applied: false, deliveries: 0 });
      }
    }
    // Overlap by a second: events of the same second may still be arriving.
    this.eventsSince = Math.max(0, newest - 1);
  }

  private async deliverWebhooks(): Promise<void> {
    await this.pullEvents();
    const { duplicateRate, reorder, lateRate, concurrent } = this.plan.webhooks;
    const round = this.next("webhook-round");
    const rng = this.rng.stream("webhooks", round);
    let waiting = [...this.mailbox.values()]
      .filter((m) => !m.applied)
      .sort((a, b) => a.event.created - b.event.created);
    if (!this.healing && reorder) waiting = rng.shuffle(waiting);
    const deliveries: MailboxEntry[] = [];
    for (const entry of waiting) {
      if (!this.healing && rng.chance(lateRate)) continue; // late: a later round delivers it
      deliveries.push(entry);
      if (!this.healing && rng.chance(duplicateRate)) deliveries.push(entry);
    }
    const deliver = async (entry: MailboxEntry) => {
      entry.deliveries++;
      this.stats.webhookDeliveries++;
      const answer = await this.invoke("webhook", () => webhookRoute(this.webhookRequest(entry.event)));
      if (!answer.abandoned && answer.status < 300) entry.applied = true;
    };
    if (concurrent && !this.healing) await Promise.all(deliveries.map(deliver));
    else for (const entry of deliveries) await deliver(entry);
  }

  private webhookRequest(event: Stripe.Event): NextRequest {
    // Stripe sends events pretty-printed; the signature covers exactly these bytes.
    const payload = JSON.stringify(event, null, 2);
    const secret = event.account ? CONNECT_SECRET : PLATFORM_SECRET;
    return new NextRequest(`${APP_URL}/webhooks/stripe`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "stripe-signature": Stripe.webhooks.generateTestHeaderString({ payload, secret }),
      },
      body: payload,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Invocations and time

  private next(counter: string): number {
    const n = (this.counters.get(counter) ?? 0) + 1;
    this.counters.set(counter, n);
    return n;
  }

  /** The n-th invocation of a kind dies where the plan's stream for (kind, n) says, if at all. */
  private abandonPlan(kind: InvocationKind, n: number): AbandonPlan | null {
    if (this.healing) return null;
    const rng = this.rng.stream("abandon", kind, n);
    if (!rng.chance(this.plan.abandonRate)) return null;
    return {
      boundary: rng.int(1, this.plan.abandonWithin[kind]),
      phase: rng.chance(0.5) ? "before" : "after",
    };
  }

  /**
   * One invocation of a route handler. If it dies, its answer is lost (whatever it would have said)
   * and it never does anything again; the caller decides what QStash or Stripe does next.
   */
  private async invoke(kind: InvocationKind, call: () => Promise<Response>): Promise<Answer> {
    const n = this.next(`invoke:${kind}`);
    const invocation = new Invocation(`${kind}#${n}`, this.abandonPlan(kind, n));
    this.stats.invocations++;
    const answered = runInvocation(invocation, call).then(async (response) => ({
      abandoned: false as const,
      status: response.status,
      body: await response.json().catch(() => null),
    }));
    const died = invocation.dead.then(() => ({ abandoned: true as const, diedAt: invocation.diedAt ?? "?" }));
    answered.catch(() => {});
    const answer = await Promise.race([answered, died]);
    if (invocation.abandoned) {
      this.stats.abandoned++;
      return { abandoned: true, diedAt: invocation.diedAt ?? "?" };
    }
    return answer;
  }

  /**
   * Let time pass for everything that compares with the clock: leases, heartbeats, first attempts and
   * received times in the database (shifted back) and QStash delays. Only called when nothing is in
   * flight, so no invocation sees the shift happen. The simulator's clock stays on real time: event
   * times become the app's paid_at and effective_at, which it compares with its own clock; and the
   * minutes passed here are far from Stripe's 24-hour idempotency window.
   */
  private async passTime(ms: number): Promise<void> {
    if (ms <= 0) return;
    this.offsetMs += ms;
    const shift = sql`make_interval(secs => ${ms / 1000})`;
    // Every lease, retry time and heartbeat of every table (found by name, so a new sweep's lease is
    // covered too), and the first-attempt and received times the app measures ages from.
    this.clockColumns ??= await queryRows<{ table_name: string; column_name: string }>(
      this.db,
      sql`select table_name, column_name from information_schema.columns
          where table_schema = 'public' and column_name in ('lease_expires_at', 'next_attempt_at', 'heartbeat_at')`,
    );
    await this.db.transaction(async (tx) => {
      for (const { table_name: table, column_name: column } of this.clockColumns!) {
        await tx.execute(sql`update ${sql.identifier(table)} set ${sql.identifier(column)} = ${sql.identifier(column)} - ${shift}
                             where ${sql.identifier(column)} is not null`);
      }
      await tx.execute(
        sql`update payouts set first_attempt_at = first_attempt_at - ${shift} where status in ('planned', 'processing')`,
      );
      await tx.execute(
        sql`update payout_runs set started_at = started_at - ${shift} where status in ('planning', 'executing')`,
      );
      await tx.execute(
        sql`update processor_events set received_at = received_at - ${shift} where status in ('received', 'failed', 'pending')`,
      );
    });
  }

  private request(path: string, body: unknown): NextRequest {
    return new NextRequest(`${APP_URL}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-cron-secret": CRON_SECRET },
      body: JSON.stringify(body),
    });
  }
}

const ctx = <P extends Record<string, string>>(params: P = {} as P) => ({ params: Promise.resolve(params) });

function sweepRoute(name: SweepRoute | "instant-payouts") {
  switch (name) {
    case "instant-payouts":
      return instantPayoutsRoute;
    case "complete-expired-guarantees":
      return completeGuaranteesRoute;
    case "create-placement-invoices":
      return createInvoicesRoute;
    case "finalize-placement-invoices":
      return finalizeInvoicesRoute;
    case "escrow-releases":
      return escrowReleasesRoute;
    case "webhook-replays":
      return webhookReplaysRoute;
    case "payout-schedules":
      return payoutSchedulesRoute;
  }
}
