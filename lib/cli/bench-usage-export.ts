// npm run bench:usage-export -- [--records 100000] [--clients 500] [--latency 150-300] [--concurrency 384] [--keep]
//
// The usage export (lib/billing/usage-export.ts) of N usage records to the Stripe simulator at Stripe's
// live limits: meter events at their own 1,000/s, one call at a time per customer and meter (a second
// is a 429), with the given latency. Setup (not timed): a scratch database on the real Postgres, C
// clients with a customer each, N records spread over the last day across the clients and two meters.
// Then one live export is timed: wall time, the floor (N over the meter-event limit), wall / floor
// (target <= 1.15), 429s, and duplicates: meter events Stripe holds more than once per identifier (0).
import { randomBytes, randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { connectPostgres, migrateDb } from "../../db/client";
import { clients, usageRecords } from "../../db/schema";
import { systemActor } from "../actor";
import { usageIdentifier } from "../billing/usage";
import { exportUsage, type LiveResult } from "../billing/usage-export";
import { createStripeClient } from "../stripe/client";
import { createStripeGateway } from "../stripe/gateway";
import { StripeRateLimiter } from "../stripe/limiter";
import { STRIPE_LIVE_RATE_LIMITS, startStripeSimulator } from "../stripe/simulator";

const { values: args } = parseArgs({
  options: {
    records: { type: "string", default: "100000" },
    clients: { type: "string", default: "500" },
    latency: { type: "string", default: "150-300" },
    concurrency: { type: "string", default: "384" },
    keep: { type: "boolean", default: false },
    "database-url": {
      type: "string",
      default: process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    },
  },
});
const N = Number(args.records);
const C = Number(args.clients);
const [latMin, latMax] = args.latency.split("-").map(Number) as [number, number];
const tty = process.stdout.isTTY;
const line = (label: string, value: string) => console.log(`${label.padEnd(28)} ${value}`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const adminUrl = args["database-url"];
const dbName = `payrun_bench_${randomBytes(4).toString("hex")}`;
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${dbName}`);
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;
const handle = connectPostgres(url.toString(), { max: 8 });
const db = handle.db;
const t0 = Date.now();

try {
  await migrateDb(handle);
  const simulator = await startStripeSimulator({ port: 0 });
  const stripe = createStripeClient({
    secretKey: "sk_test_simulator",
    apiBaseUrl: simulator.url,
    timeoutMs: 30_000,
  });
  const setupGateway = createStripeGateway(stripe, { maxRetries: 3 });

  // Setup: clients with customers, N records over the last day, interleaved across clients and meters.
  const setupStart = Date.now();
  const clientRows: { id: string; customer: string }[] = [];
  for (let i = 0; i < C; i++) {
    const customer = await setupGateway.createCustomer({
      email: `c${i}@bench.example`,
      name: `Bench client ${i}`,
      idempotencyKey: `bench-customer-${i}`,
    });
    clientRows.push({ id: randomUUID(), customer: customer.id });
  }
  await db
    .insert(clients)
    .values(
      clientRows.map((c, i) => ({
        id: c.id,
        name: `Bench client ${i}`,
        email: `c${i}@bench.example`,
        plan: "starter",
        status: "active" as const,
        stripeCustomerId: c.customer,
      })),
    );
  const since = Date.now() - 86_400_000;
  const meters = ["placements", "api_calls"];
  for (let i = 0; i < N; i += 5000) {
    await db.insert(usageRecords).values(
      Array.from({ length: Math.min(5000, N - i) }, (_, j) => {
        const k = i + j;
        const client = clientRows[k % C]!;
        const id = randomUUID();
        return {
          id,
          clientId: client.id,
          stripeCustomerId: client.customer,
          meterEventName: meters[Math.floor(k / C) % 2]!,
          quantity: 1 + (k % 7),
          occurredAt: new Date(since + Math.floor((k / N) * 86_000_000)),
          identifier: usageIdentifier(id),
          source: "api" as const,
          requestKey: `bench-${k}`,
        };
      }),
    );
  }
  await handle.db.execute("analyze" as never);
  line(
    "setup",
    `${secs(Date.now() - setupStart)}: ${C} clients, ${N} usage records, ${C * meters.length} (customer, meter) lanes`,
  );

  // The export, at Stripe's live limits and latency.
  simulator.setFaults({
    all: { latencyMs: { min: latMin, max: latMax } },
    rateLimits: { ...STRIPE_LIVE_RATE_LIMITS },
  });
  const limiter = new StripeRateLimiter({
    overall: STRIPE_LIVE_RATE_LIMITS.globalPerSecond,
    perEndpoint: STRIPE_LIVE_RATE_LIMITS.perEndpointPerSecond,
    payouts: STRIPE_LIVE_RATE_LIMITS.payoutsPerSecond,
    meterEvents: STRIPE_LIVE_RATE_LIMITS.meterEventsPerSecond,
  });
  const gateway = createStripeGateway(stripe, { limiter, maxRetries: 3 });
  const seqBefore = simulator.requests().at(-1)?.seq ?? 0;
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const started = Date.now();
  const result = (await exportUsage(db, gateway, {
    start: day(new Date(since - 86_400_000)),
    end: day(new Date(Date.now() + 86_400_000)),
    live: true,
    confirm: true,
    actor: systemActor("bench"),
    concurrency: Number(args.concurrency),
    onBatch: (id) => line("batchId", id),
    onProgress: (p) => {
      if (tty) process.stdout.write(`\r${p.done}/${p.total} records (${secs(Date.now() - started)})`);
    },
  })) as LiveResult;
  const wallMs = Date.now() - started;
  if (tty) process.stdout.write("\n");
  const log = simulator
    .requests(seqBefore, 10_000_000)
    .filter((r) => r.endpoint === "POST /v1/billing/meter_events");
  const perIdentifier = new Map<string, number>();
  for (const e of simulator.meterEvents())
    perIdentifier.set(String(e.identifier), (perIdentifier.get(String(e.identifier)) ?? 0) + 1);
  const duplicates = [...perIdentifier.values()].reduce((n, c) => n + (c - 1), 0);
  const floorS = N / STRIPE_LIVE_RATE_LIMITS.meterEventsPerSecond;
  line(
    "export",
    `${result.status}: ${result.sent} sent, ${result.alreadyAtStripe} already at Stripe, ${result.failed} failed`,
  );
  line("wall time", secs(wallMs));
  line("meter event requests", `${log.length} (429s: ${log.filter((r) => r.status === 429).length})`);
  line(
    "floor",
    `${floorS.toFixed(1)} s  (${N} meter events / ${STRIPE_LIVE_RATE_LIMITS.meterEventsPerSecond}/s)`,
  );
  line("wall / floor", (wallMs / 1000 / floorS).toFixed(3));
  line(
    "duplicates",
    `${duplicates} (events held ${simulator.meterEvents().length}, distinct identifiers ${perIdentifier.size}, missing ${N - perIdentifier.size})`,
  );
  await simulator.close();
} finally {
  await handle.close();
  if (!args.keep) await admin.unsafe(`drop database if exists ${dbName} with (force)`);
  await admin.end();
  line("total", secs(Date.now() - t0));
}
