// npm run bench:run -- --payees 10000 [--latency 150-300] [--no-live-limits] [--plan-only] [--history 200] [--keep]
//
// The payout run against the Stripe simulator with Stripe's live limits and network latency, on a
// scratch database of the real Postgres: planning time, execution time, Stripe calls by endpoint,
// 429s, the floor (calls over the binding limit) and wall time over the floor. With --history N,
// planning is timed before and after adding N older ledger entries per payee (a year or two of
// activity), each time as the real planning in a transaction rolled back, then for real.
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { connectPostgres, migrateDb, queryRows } from "../../db/client";
import { connectedAccounts, payees } from "../../db/schema";
import { systemActor } from "../actor";
import { loadEnv } from "../env";
import { postLedgerSet, postLedgerTransactions, unbalancedTransactions } from "../ledger";
import { previewPlan } from "../payouts/plan";
import { continuePayoutRun, triggerPayoutRun } from "../payouts/run";
import { createStripeClient } from "../stripe/client";
import { createStripeGateway } from "../stripe/gateway";
import { startStripeSimulator, STRIPE_LIVE_RATE_LIMITS } from "../stripe/simulator";
import { invocationBudgetMs } from "../time";

const { values: args } = parseArgs({
  options: {
    payees: { type: "string", default: "10000" },
    latency: { type: "string", default: "150-300" },
    "no-live-limits": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    "plan-only": { type: "boolean", default: false },
    history: { type: "string", default: "0" },
    "database-url": {
      type: "string",
      default: process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    },
  },
});
const N = Number(args.payees);
const HISTORY = Number(args.history);
if (!Number.isInteger(HISTORY) || HISTORY < 0 || HISTORY % 2 !== 0) throw new Error("--history must be an even number of entries per payee");
const [latMin, latMax] = args.latency.split("-").map(Number) as [number, number];

class RolledBack extends Error {}

const adminUrl = args["database-url"];
const dbName = `payrun_bench_${randomBytes(4).toString("hex")}`;
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${dbName}`);
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;
const handle = connectPostgres(url.toString(), { max: 20 });
const db = handle.db;
const t0 = Date.now();
const lap = (label: string, since: number) =>
  console.log(`${label.padEnd(28)} ${((Date.now() - since) / 1000).toFixed(2)} s`);

try {
  await migrateDb(handle);
  const simulator = await startStripeSimulator({ port: 0, platformBalanceCents: N * 10_000 });
  const stripe = createStripeClient({
    secretKey: "sk_test_simulator",
    apiBaseUrl: simulator.url,
    maxNetworkRetries: 3,
    timeoutMs: 30_000,
  });
  const gateway = createStripeGateway(stripe);

  // Seed: N onboarded accounts; even payees earn by destination charge (money on the connected
  // account), odd ones by placement (money on the platform: transfer then payout).
  const seedStart = Date.now();
  const rows = await db
    .insert(payees)
    .values(
      Array.from({ length: N }, (_, i) => ({ displayName: `Bench ${i}`, email: `bench${i}@example.com` })),
    )
    .returning({ id: payees.id });
  const accounts: string[] = new Array(N);
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
        if (i % 2 === 0)
          simulator.createDestinationCharge({
            destination: a.id,
            amount: 2500 + i,
            applicationFeeAmount: 250,
          });
        accounts[i] = a.id;
      }
    }),
  );
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
  for (let i = 0; i < N; i += 2000) {
    await postLedgerTransactions(
      db,
      rows.slice(i, i + 2000).map((r, j) => {
        const k = i + j;
        const amount = k % 2 === 0 ? 2500 + k - 250 : 3000 + k;
        return {
          idempotencyKey: `bench-earning-${k}`,
          kind: "earning",
          description: "bench",
          currency: "usd",
          payeeId: r.id,
          effectiveAt: earnedAt,
          // half destination charges (on the connected account), half placements (on the platform)
          lines: [
            { kind: "stripe_clearing" as const, amount: -amount },
            { payeeId: r.id, kind: "available" as const, location: k % 2 === 0 ? ("connected" as const) : ("platform" as const), amount },
          ],
        };
      }),
    );
  }
  // Production tables have statistics and summarised BRIN ranges (autovacuum); a freshly filled
  // scratch database does not yet.
  await db.execute(sql`vacuum analyze ledger_entries`);
  await db.execute(sql`analyze`);
  lap(`seeded ${N} payees`, seedStart);

  // Older activity, before the cycle's cutoff: per payee, HISTORY/2 past earnings each paid out in
  // full (so today's balances stay as they are), HISTORY entries on its available account in all,
  // posted set-based through the ledger like planning, 1,000 payees at a time.
  async function addHistory(entriesPerPayee: number) {
    for (let i = 0; i < N; i += 1000) {
      const ids = JSON.stringify(rows.slice(i, i + 1000).map((r) => r.id));
      const source = sql`select p.id as payee_id, 'bench-history:' || p.id || ':' || g as k, md5(p.id::text || ':' || g)::uuid as tx_id,
                                now() - make_interval(days => 40 + g * 5) as at, 100 + g as amount
                         from (select (jsonb_array_elements_text(${ids}::jsonb))::uuid as id) p,
                              generate_series(1, ${entriesPerPayee / 2}) g`;
      await db.transaction(async (tx) =>
        postLedgerSet(tx, {
          transactions: sql`select h.tx_id as id, h.k, 'history' as kind, 'older activity' as description, h.payee_id,
                                   null as source_type, null as source_id, '{}'::jsonb as metadata, h.at as effective_at,
                                   false as allow_overdraft
                            from (${source}) h`,
          lines: sql`select h.tx_id as transaction_id, v.payee_id, v.kind, v.location, 'usd' as currency, v.amount
                     from (${source}) h
                     cross join lateral (values (null::uuid, 'stripe_clearing', 'platform', -h.amount),
                                                (h.payee_id, 'available', 'platform', h.amount),
                                                (h.payee_id, 'available', 'platform', -h.amount),
                                                (h.payee_id, 'paid', 'bank', h.amount)) v(payee_id, kind, location, amount)`,
        }),
      );
    }
  }

  // Stripe as in live mode from here on.
  simulator.setFaults({
    all: { latencyMs: { min: latMin, max: latMax } },
    ...(args["no-live-limits"] ? {} : { rateLimits: { ...STRIPE_LIVE_RATE_LIMITS } }),
  });
  const env = loadEnv({
    ...process.env,
    NODE_ENV: "production",
    PAYRUN_LOCAL: "1",
    DATABASE_URL: url.toString(),
    PAYOUT_TIMEZONE: "UTC",
  });
  const actor = systemActor("bench");
  const since = simulator.requests(0, 1).length ? simulator.requests(0, 10_000_000).at(-1)!.seq : 0;

  // Planning as the run does it, in a transaction that is then rolled back: nothing changes.
  const timePlanning = async (): Promise<{ ms: number; planned: number }> => {
    let result = { ms: 0, planned: 0 };
    await db
      .transaction(async (tx) => {
        const started = Date.now();
        const t = await triggerPayoutRun(tx, env, { cycleDate: "2030-01-01", trigger: "manual", actor });
        const ms = Date.now() - started;
        if (t.kind !== "run") throw new Error(`no run: ${t.kind}`);
        const [row] = await queryRows<{ n: string }>(tx, sql`select count(*) as n from payouts where run_id = ${t.runId} and status = 'planned'`);
        result = { ms, planned: Number(row!.n) };
        throw new RolledBack();
      })
      .catch((error) => {
        if (!(error instanceof RolledBack)) throw error;
      });
    return result;
  };
  // The planning query alone, as the dry run reads it (best of three: the machine may be busy).
  const timeDryRun = async (): Promise<number> => {
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      await previewPlan(db, env, { cutoffAt: new Date("2030-01-01T06:00:00Z") });
      best = Math.min(best, performance.now() - started);
    }
    return best;
  };
  if (HISTORY > 0) {
    const dryBefore = await timeDryRun();
    const before = await timePlanning();
    const historyStart = Date.now();
    await addHistory(HISTORY);
    // What autovacuum does to history long before a run reads it: statistics, and the BRIN ranges
    // of the older entries summarised (fresh ranges are read whole until they are).
    await db.execute(sql`vacuum analyze ledger_entries`);
    await db.execute(sql`analyze`);
    lap(`added ${HISTORY} entries per payee`, historyStart);
    const dryAfter = await timeDryRun();
    const after = await timePlanning();
    const [{ entries }] = (await queryRows<{ entries: string }>(db, sql`select count(*) as entries from ledger_entries`)) as [{ entries: string }];
    console.log(`planning, no history          ${(before.ms / 1000).toFixed(3)} s for ${before.planned} payouts`);
    console.log(`planning, ${HISTORY} entries/payee   ${(after.ms / 1000).toFixed(3)} s for ${after.planned} payouts (${entries} entries in the ledger)`);
    console.log(`with / without history        ${(after.ms / before.ms).toFixed(2)} (planning: the query, then posting and writing every payout)`);
    console.log(`dry run (the planning query)  ${dryBefore.toFixed(0)} ms without history, ${dryAfter.toFixed(0)} ms with: ${(dryAfter / dryBefore).toFixed(2)}`);
  }

  const wallStart = Date.now();
  const planStart = Date.now();
  const trig = await triggerPayoutRun(db, env, { cycleDate: "2030-01-01", trigger: "manual", actor });
  const planMs = Date.now() - planStart;
  if (trig.kind !== "run") throw new Error(`no run: ${trig.kind}`);
  const [{ planned }] = (await queryRows<{ planned: string }>(
    db,
    sql`select count(*) as planned from payouts where run_id = ${trig.runId} and status = 'planned'`,
  )) as [{ planned: string }];

  if (args["plan-only"]) {
    console.log(
      `planning                     ${(planMs / 1000).toFixed(3)} s for ${planned} payouts (${Math.round(Number(planned) / (planMs / 1000))} payees/s)`,
    );
  } else {
    const execStart = Date.now();
    let slices = 0;
    let rateLimitedRetries = 0;
    for (;;) {
      slices++;
      const r = await continuePayoutRun(db, env, gateway, {
        runId: trig.runId,
        chainId: trig.chainId!,
        deadline: Date.now() + invocationBudgetMs(env),
        dispatch: false,
        concurrency: 48,
      });
      rateLimitedRetries += r.rateLimited;
      if (r.state === "done") break;
      if (r.retryAfterSeconds > 0) await new Promise((res) => setTimeout(res, r.retryAfterSeconds * 1000));
    }
    const execMs = Date.now() - execStart;
    const wallMs = Date.now() - wallStart;

    const log = simulator.requests(since, 10_000_000);
    const byEndpoint: Record<string, number> = {};
    for (const r of log) byEndpoint[r.endpoint ?? r.path] = (byEndpoint[r.endpoint ?? r.path] ?? 0) + 1;
    const status429 = log.filter((r) => r.status === 429).length;
    const created = (prefix: string, endpoint: string) =>
      log
        .filter((r) => r.endpoint === endpoint && r.status < 400)
        .flatMap((r) => r.createdIds.filter((id) => id.startsWith(prefix)));
    const payoutsMade = created("po_", "POST /v1/payouts");
    const transfersMade = created("tr_", "POST /v1/transfers");
    const payoutCalls = byEndpoint["POST /v1/payouts"] ?? 0;
    const transferCalls = byEndpoint["POST /v1/transfers"] ?? 0;
    const total = log.length;
    const limits = {
      overall: env.STRIPE_RATE_LIMIT_PER_SECOND,
      perEndpoint: env.STRIPE_RATE_LIMIT_PER_ENDPOINT,
      payouts: env.STRIPE_PAYOUT_RATE_LIMIT,
    };
    const floors = {
      [`payouts ${payoutCalls}/${limits.payouts}/s`]: payoutCalls / limits.payouts,
      [`transfers ${transferCalls}/${limits.perEndpoint}/s`]: transferCalls / limits.perEndpoint,
      [`all ${total}/${limits.overall}/s`]: total / limits.overall,
    };
    const [binding, floorS] = Object.entries(floors).sort((a, b) => b[1] - a[1])[0]!;
    const [{ failed, in_transit, by_rate }] = (await queryRows<{
      failed: string;
      in_transit: string;
      by_rate: string;
    }>(
      db,
      sql`select count(*) filter (where status = 'failed') as failed, count(*) filter (where status = 'in_transit') as in_transit,
               count(*) filter (where status = 'failed' and failure_code in ('rate_limited', 'rate_limit', 'retries_exhausted')) as by_rate
        from payouts where run_id = ${trig.runId}`,
    )) as [{ failed: string; in_transit: string; by_rate: string }];

    console.log("");
    console.log(`payees                       ${N} (planned ${planned})`);
    console.log(
      `planning                     ${(planMs / 1000).toFixed(3)} s  (${Math.round(Number(planned) / (planMs / 1000))} payees/s)`,
    );
    console.log(
      `execution                    ${(execMs / 1000).toFixed(1)} s in ${slices} slice(s) of <= ${invocationBudgetMs(env) / 1000} s`,
    );
    console.log(`Stripe calls by endpoint     ${JSON.stringify(byEndpoint)}`);
    console.log(`429s seen                    ${status429} (retried after back-off: ${rateLimitedRetries})`);
    console.log(`floor                        ${floorS.toFixed(1)} s  (binding: ${binding})`);
    console.log(
      `wall / floor                 ${(wallMs / 1000 / floorS).toFixed(3)}  (wall ${(wallMs / 1000).toFixed(1)} s)`,
    );
    console.log(
      `payouts in transit           ${in_transit}; failed ${failed} (by rate limiting: ${by_rate})`,
    );
    console.log(
      `duplicates                   payouts ${payoutsMade.length - new Set(payoutsMade).size}, transfers ${transfersMade.length - new Set(transfersMade).size}; payouts made ${new Set(payoutsMade).size}, transfers made ${new Set(transfersMade).size}`,
    );
    console.log(`ledger balanced              ${(await unbalancedTransactions(db)).length === 0}`);
  }
  await simulator.close();
} finally {
  await handle.close();
  if (!args.keep) await admin.unsafe(`drop database if exists ${dbName} with (force)`);
  await admin.end();
  lap("total", t0);
}
