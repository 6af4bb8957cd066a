// npm run bench:reconcile -- [--payees 10000] [--latency 150-300] [--no-live-limits] [--concurrency 16] [--keep]
//
// Reconciliation of a whole payout cycle against the Stripe simulator, on a scratch database of the
// real Postgres. Setup (not timed, Stripe without limits): N onboarded accounts; even payees earn by
// destination charge (credited as the webhook would), odd ones by placement (money on the platform);
// a payout run pays them all (a transfer for the odd ones, a payout each). Then, with Stripe's live
// limits and latency, one reconciliation pass over the platform and every connected account is
// timed: Stripe calls by endpoint, the floor (calls over the binding limit), wall time over the
// floor, and the breaks found (0 expected). A second pass, with nothing new, shows what a quiet hour
// costs.
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { connectPostgres, migrateDb, queryRows } from "../../db/client";
import { connectedAccounts, payees } from "../../db/schema";
import { systemActor } from "../actor";
import { creditDestinationCharge } from "../earnings/credit";
import { loadEnv } from "../env";
import { postLedgerTransactions } from "../ledger";
import { continuePayoutRun, triggerPayoutRun } from "../payouts/run";
import { openBreakSummary } from "../reconciliation/breaks";
import { reconcileNow } from "../reconciliation/pass";
import { createStripeClient } from "../stripe/client";
import { createStripeGateway } from "../stripe/gateway";
import { processLimiter } from "../stripe/limiter";
import { startStripeSimulator, STRIPE_LIVE_RATE_LIMITS } from "../stripe/simulator";
import { invocationBudgetMs } from "../time";

const { values: args } = parseArgs({
  options: {
    payees: { type: "string", default: "10000" },
    latency: { type: "string", default: "150-300" },
    "no-live-limits": { type: "boolean", default: false },
    concurrency: { type: "string", default: "16" },
    keep: { type: "boolean", default: false },
    "database-url": {
      type: "string",
      default: process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    },
  },
});
const N = Number(args.payees);
const CONCURRENCY = Number(args.concurrency);
const [latMin, latMax] = args.latency.split("-").map(Number) as [number, number];
const tty = process.stdout.isTTY;

const adminUrl = args["database-url"];
const dbName = `payrun_bench_${randomBytes(4).toString("hex")}`;
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${dbName}`);
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;
const handle = connectPostgres(url.toString(), { max: 24 });
const db = handle.db;
const t0 = Date.now();
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const line = (label: string, value: string) => console.log(`${label.padEnd(30)} ${value}`);

try {
  await migrateDb(handle);
  const simulator = await startStripeSimulator({ port: 0, platformBalanceCents: N * 10_000 });
  const stripe = createStripeClient({ secretKey: "sk_test_simulator", apiBaseUrl: simulator.url, maxNetworkRetries: 0, timeoutMs: 30_000 });
  const env = loadEnv({
    ...process.env,
    NODE_ENV: "production",
    PAYRUN_LOCAL: "1",
    DATABASE_URL: url.toString(),
    PAYOUT_TIMEZONE: "UTC",
    RECON_GRACE_SECONDS: "0",
  });
  const actor = systemActor("bench");

  // Setup: accounts, earnings as the webhooks would credit them, a payout run; Stripe unlimited.
  const setupStart = Date.now();
  const rows = await db
    .insert(payees)
    .values(Array.from({ length: N }, (_, i) => ({ displayName: `Bench ${i}`, email: `bench${i}@example.com` })))
    .returning({ id: payees.id });
  const accounts: string[] = new Array(N);
  const charges: { pi: string; charge: string; amount: number }[] = new Array(N);
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      for (let i = next++; i < N; i = next++) {
        const a = await stripe.accounts.create({
          type: "express",
          country: "US",
          capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
          settings: { payouts: { schedule: { interval: "manual" } } },
        });
        simulator.onboardAccount(a.id);
        if (i % 2 === 0) {
          const pi = simulator.createDestinationCharge({ destination: a.id, amount: 2500 + i, applicationFeeAmount: 250 });
          charges[i] = { pi: pi.id as string, charge: pi.latest_charge as string, amount: 2500 + i };
        }
        accounts[i] = a.id;
        if (tty && i % 500 === 0) process.stdout.write(`\rsetup: ${i}/${N} accounts`);
      }
    }),
  );
  if (tty) process.stdout.write("\r");
  for (let i = 0; i < N; i += 5000) {
    await db.insert(connectedAccounts).values(
      rows.slice(i, i + 5000).map((r, j) => ({
        payeeId: r.id,
        stripeAccountId: accounts[i + j]!,
        chargesEnabled: true,
        payoutsEnabled: true,
        detailsSubmitted: true,
      })),
    );
  }
  const earnedAt = new Date(Date.now() - 20 * 86400_000);
  next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next; i < N; i = next) {
        next += 2;
        const c = charges[i]!;
        await creditDestinationCharge(
          db,
          {
            paymentIntentId: c.pi,
            chargeId: c.charge,
            stripeAccountId: accounts[i]!,
            amountReceivedCents: c.amount,
            applicationFeeCents: 250,
            transferAmountCents: null,
            currency: "usd",
            effectiveAt: earnedAt,
          },
          { actor, reservePercent: 0, reserveDays: 0 },
        );
      }
    }),
  );
  for (let i = 1; i < N; i += 2000) {
    await postLedgerTransactions(
      db,
      rows
        .map((r, k) => ({ r, k }))
        .slice(i, i + 2000)
        .filter(({ k }) => k % 2 === 1)
        .map(({ r, k }) => ({
          idempotencyKey: `bench-placement-${k}`,
          kind: "placement_share",
          description: "bench",
          currency: "usd",
          payeeId: r.id,
          effectiveAt: earnedAt,
          lines: [
            { kind: "stripe_clearing" as const, amount: -(3000 + k) },
            { payeeId: r.id, kind: "available" as const, amount: 3000 + k },
          ],
        })),
    );
  }
  await db.execute(sql`analyze`);
  const runGateway = createStripeGateway(stripe, { maxRetries: 3 });
  const trig = await triggerPayoutRun(db, env, { cycleDate: "2030-01-01", trigger: "manual", actor });
  if (trig.kind !== "run") throw new Error(`no run: ${trig.kind}`);
  for (;;) {
    const r = await continuePayoutRun(db, env, runGateway, {
      runId: trig.runId,
      chainId: trig.chainId!,
      deadline: Date.now() + invocationBudgetMs(env),
      dispatch: false,
      concurrency: 48,
    });
    if (r.state === "done") break;
  }
  const [paid] = await queryRows<{ in_transit: number; failed: number }>(
    db,
    sql`select count(*) filter (where status = 'in_transit')::int as in_transit, count(*) filter (where status = 'failed')::int as failed
        from payouts where run_id = ${trig.runId}`,
  );
  line("setup", `${secs(Date.now() - setupStart)}: ${N} payees, ${paid!.in_transit} payouts in transit, ${paid!.failed} failed`);

  // The pass, with Stripe's live limits and latency.
  const limits = args["no-live-limits"]
    ? { overall: 100_000, perEndpoint: 100_000, payouts: 100_000 }
    : { overall: STRIPE_LIVE_RATE_LIMITS.globalPerSecond, perEndpoint: STRIPE_LIVE_RATE_LIMITS.perEndpointPerSecond, payouts: STRIPE_LIVE_RATE_LIMITS.payoutsPerSecond };
  simulator.setFaults({
    all: { latencyMs: { min: latMin, max: latMax } },
    ...(args["no-live-limits"] ? {} : { rateLimits: { ...STRIPE_LIVE_RATE_LIMITS } }),
  });
  const gateway = createStripeGateway(stripe, { limiter: processLimiter(limits), maxRetries: 3 });

  const pass = async (label: string) => {
    const since = simulator.requests(0, 10_000_000).at(-1)?.seq ?? 0;
    const started = Date.now();
    let done = 0;
    await reconcileNow(db, gateway, env, {
      batchSize: 500,
      concurrency: CONCURRENCY,
      onBatch: (step) => {
        done += step.claimed;
        if (tty) process.stdout.write(`\r${label}: ${done}/${N + 1} accounts`);
      },
    });
    if (tty) process.stdout.write("\r");
    const wallMs = Date.now() - started;
    const log = simulator.requests(since, 10_000_000);
    const byEndpoint: Record<string, number> = {};
    for (const r of log) byEndpoint[r.endpoint ?? r.path] = (byEndpoint[r.endpoint ?? r.path] ?? 0) + 1;
    const floors = [
      ...Object.entries(byEndpoint).map(([endpoint, n]) => [`${endpoint} ${n}/${limits.perEndpoint}/s`, n / limits.perEndpoint] as const),
      [`all ${log.length}/${limits.overall}/s`, log.length / limits.overall] as const,
    ].sort((a, b) => b[1] - a[1]);
    const [binding, floorS] = floors[0]!;
    const [run] = await queryRows<{ transactions_ingested: number; breaks_opened: number; failures: number; accounts_done: number }>(
      db,
      sql`select transactions_ingested, breaks_opened, failures, accounts_done from reconciliation_runs order by started_at desc limit 1`,
    );
    console.log("");
    line(label, `${secs(wallMs)} for ${run!.accounts_done} accounts, ${run!.transactions_ingested} balance transactions ingested`);
    line("Stripe calls by endpoint", JSON.stringify(byEndpoint));
    line("429s seen", String(log.filter((r) => r.status === 429).length));
    line("floor", `${(floorS as number).toFixed(1)} s  (binding: ${binding})`);
    line("wall / floor", `${(wallMs / 1000 / (floorS as number)).toFixed(3)}`);
    line("breaks found", `${run!.breaks_opened} opened; open now: ${JSON.stringify(await openBreakSummary(db))}; failures ${run!.failures}`);
  };
  await pass("first pass");
  await pass("second pass, nothing new");
  await simulator.close();
} finally {
  await handle.close();
  if (!args.keep) await admin.unsafe(`drop database if exists ${dbName} with (force)`);
  await admin.end();
  line("total", secs(Date.now() - t0));
}
