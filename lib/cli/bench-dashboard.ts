// `npm run bench:dashboard`: how long the payee dashboard takes to render on the server for a payee
// with 10,000 ledger entries (target: under 200 ms). Seeds a scratch database (a fresh database on
// TEST_DATABASE_URL's Postgres, else a temp PGlite dir), then measures
//   1. the page's read model (loadPayeeDashboard: balances, preview, payouts, one history page), and
//   2. the whole server render: GET /dashboard on `next start` (needs a build: `npm run build`).
// Prints p50/p95/max of each. BENCH_ENTRIES and BENCH_ROUNDS change the size and the repetitions.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import { type DbHandle, schema } from "../../db/client";
import { openScratchDatabase } from "../../db/scratch";
import { issueLocalToken } from "../auth/user";
import { loadPayeeDashboard } from "../dashboard/payee";
import { DEMO_USERS } from "../demo/users";
import { loadEnv } from "../env";
import { freePort, waitForHttp } from "./dev-server";
import { postLedgerTransactions } from "../ledger";
import type { PostingInput } from "../ledger/types";

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const TARGET_MS = 200;
const ROOT = path.resolve(import.meta.dirname, "../..");

/** A payee with `entries` entries in their own accounts: earnings, fees taken back, payouts sent and paid. */
async function seedPayee(handle: DbHandle, payeeId: string, userId: string, entries: number) {
  const { db } = handle;
  await db.insert(schema.payees).values({ id: payeeId, displayName: "Bench Payee", email: "bench@example.com", userId });
  const postings: PostingInput[] = [];
  const start = Date.now() - 365 * 86_400_000;
  let payeeEntries = 0;
  for (let i = 0; payeeEntries < entries; i++) {
    const effectiveAt = new Date(start + i * 60_000);
    if (i % 10 === 9) {
      // every tenth: a payout moving available -> in_transit (two payee entries)
      postings.push({
        idempotencyKey: `bench:${payeeId}:payout:${i}`,
        kind: "payout_planned",
        description: "payout planned: available -> in transit",
        currency: "usd",
        payeeId,
        effectiveAt,
        lines: [
          { payeeId, kind: "available", amount: -1_000 },
          { payeeId, kind: "in_transit", amount: 1_000 },
        ],
      });
      payeeEntries += 2;
    } else {
      postings.push({
        idempotencyKey: `bench:${payeeId}:earning:${i}`,
        kind: "earning",
        description: `Destination charge pi_bench_${i}`,
        currency: "usd",
        payeeId,
        effectiveAt,
        lines: [
          { kind: "stripe_clearing", amount: -2_000 },
          { payeeId, kind: "available", amount: 1_800 },
          { kind: "fees", amount: 200 },
        ],
      });
      payeeEntries += 1;
    }
  }
  for (let i = 0; i < postings.length; i += 1_000) await postLedgerTransactions(db, postings.slice(i, i + 1_000));
  // A live database has planner statistics (autovacuum); a just-filled one has none, and without them
  // Postgres reads the payee's whole history instead of walking the (payee_id, created_at) index.
  await db.execute(sql`analyze`);
  return { transactions: postings.length, payeeEntries };
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1]! };
}

const fmt = (s: ReturnType<typeof stats>) => `p50 ${s.p50.toFixed(1)} ms  p95 ${s.p95.toFixed(1)} ms  max ${s.max.toFixed(1)} ms`;

async function measureHttp(appEnv: Record<string, string>, token: string): Promise<ReturnType<typeof stats> | null> {
  if (!existsSync(path.join(ROOT, ".next", "BUILD_ID"))) {
    console.log("next start: skipped (no build; run `npm run build` first)");
    return null;
  }
  const port = await freePort();
  const child: ChildProcess = spawn(path.join(ROOT, "node_modules/.bin/next"), ["start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "production", PAYRUN_LOCAL: "1", NEXT_TELEMETRY_DISABLED: "1", ...appEnv },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    const url = `http://127.0.0.1:${port}/dashboard`;
    const get = () => fetch(url, { headers: { cookie: `payrun_session=${token}` }, redirect: "manual" });
    await waitForHttp(`http://127.0.0.1:${port}/sign-in`, { timeoutMs: 60_000, child, ready: (res) => res.ok });
    const warm = await get();
    if (warm.status !== 200) throw new Error(`GET /dashboard answered ${warm.status}`);
    await warm.text();
    for (let i = 0; i < 3; i++) await (await get()).text();
    const samples: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t = performance.now();
      const res = await get();
      await res.text(); // the whole streamed page
      samples.push(performance.now() - t);
    }
    return stats(samples);
  } finally {
    child.kill("SIGTERM");
  }
}

const scratch = await openScratchDatabase({
  serverUrl: process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  prefix: "payrun_bench_dash",
  log: (line) => console.log(`database: ${line}`),
});
try {
  const payeeUser = DEMO_USERS.find((u) => u.role === "payee")!;
  const payeeId = randomUUID();
  let t = performance.now();
  const seeded = await seedPayee(scratch.handle, payeeId, payeeUser.id, ENTRIES);
  console.log(
    `seeded ${seeded.payeeEntries} payee ledger entries in ${seeded.transactions} transactions (${((performance.now() - t) / 1000).toFixed(1)} s)`,
  );
  const env = loadEnv({ ...process.env, NODE_ENV: "production", PAYRUN_LOCAL: "1", VERCEL: undefined, SUPABASE_URL: undefined });

  for (let i = 0; i < 3; i++) await loadPayeeDashboard(scratch.handle.db, env, payeeId);
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    t = performance.now();
    await loadPayeeDashboard(scratch.handle.db, env, payeeId);
    samples.push(performance.now() - t);
  }
  const readModel = stats(samples);
  console.log(`read model (loadPayeeDashboard, ${ROUNDS} rounds): ${fmt(readModel)}`);

  if (!scratch.databaseUrl) await scratch.handle.close(); // PGlite: one process at a time
  const token = await issueLocalToken({ userId: payeeUser.id, role: "payee", payeeId, email: payeeUser.email }, env);
  const http = await measureHttp(scratch.env, token);
  if (http) console.log(`server render (GET /dashboard on next start, ${ROUNDS} rounds): ${fmt(http)}`);
  const worst = http?.p95 ?? readModel.p95;
  console.log(`target: p95 < ${TARGET_MS} ms -> ${worst < TARGET_MS ? "OK" : "TOO SLOW"}`);
  process.exitCode = worst < TARGET_MS ? 0 : 1;
} finally {
  await scratch.drop();
}
