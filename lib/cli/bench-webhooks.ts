// npm run bench:webhooks [-- --duration 10 --connections 16 --rate 300 --mix account.updated,payment_intent.succeeded,plan.created]
// Load test of POST /webhooks/stripe: `next start` on a scratch Postgres database, signed events fired
// with autocannon; in the same run, the same load at a bare handler that only verifies the signature and
// stores the event (the floor). Prints events/s, p50 and p99 of both and the ratio (closed loop: each
// connection sends as soon as it is answered), then the latency at a fixed offered load of --rate
// events/s (open loop: each request sent at its due moment, whatever the answers).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { Agent, createServer, request as httpRequest } from "node:http";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import postgres from "postgres";
import Stripe from "stripe";
import { sql } from "drizzle-orm";
import { connectPostgres, migrateDb, queryRows } from "../../db/client";
import { connectedAccounts, payees } from "../../db/schema";
import { storeStripeEvent } from "../webhooks/store";
import { verifyStripeSignature } from "../webhooks/verify";
import { buildIsStale, waitForHttp } from "./dev-server";

type AutocannonResult = {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
};
type AutocannonRequest = { method?: string; body?: string; headers?: Record<string, string> };
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const SECRET = "whsec_bench_platform";
const CONNECT_SECRET = "whsec_bench_connect";
let ACCOUNTS = 50;
const dbUrl = (name: string) => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
};

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "16" },
    rate: { type: "string", default: "300" },
    // connected accounts (and payees) the events spread over: few means hot balance rows
    accounts: { type: "string", default: "50" },
    mix: { type: "string", default: "account.updated,payment_intent.succeeded,plan.created" },
    "floor-server": { type: "boolean", default: false },
    port: { type: "string" },
    "keep-db": { type: "boolean", default: false },
  },
});

// The floor: verify the signature, insert the event (the same insert as the real intake), answer.
async function runFloorServer(port: number, url: string) {
  const { db } = connectPostgres(url);
  const secrets = {
    STRIPE_WEBHOOK_SECRET: SECRET,
    STRIPE_WEBHOOK_SECRET_PREVIOUS: undefined,
    STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_SECRET,
    STRIPE_CONNECT_WEBHOOK_SECRET_PREVIOUS: undefined,
  };
  createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      try {
        const raw = Buffer.concat(chunks).toString("utf8");
        const { event } = verifyStripeSignature(
          raw,
          (req.headers["stripe-signature"] as string) ?? null,
          secrets,
        );
        await storeStripeEvent(db, event, { source: "webhook", rawPayload: raw });
        res.writeHead(200, { "content-type": "application/json" }).end('{"status":"stored"}');
      } catch (error) {
        res
          .writeHead(400, { "content-type": "application/json" })
          .end(JSON.stringify({ error: String(error) }));
      }
    });
  }).listen(port, "127.0.0.1");
}

let counter = 0;
function makeEvent(type: string): string {
  const n = counter++;
  const acct = `acct_bench_${n % ACCOUNTS}`;
  const created = Math.floor(Date.now() / 1000);
  const id = `evt_bench_${process.pid}_${n}`;
  let object: Record<string, unknown>;
  if (type === "account.updated") {
    object = {
      id: acct,
      object: "account",
      charges_enabled: n % 2 === 0,
      payouts_enabled: true,
      details_submitted: true,
      requirements: { currently_due: [], disabled_reason: null },
      settings: { payouts: { schedule: { interval: "manual" } } },
    };
  } else if (type === "payment_intent.succeeded") {
    object = {
      id: `pi_bench_${process.pid}_${n}`,
      object: "payment_intent",
      amount: 10_000,
      amount_received: 10_000,
      application_fee_amount: 1_000,
      currency: "usd",
      status: "succeeded",
      latest_charge: `ch_bench_${process.pid}_${n}`,
      transfer_data: { destination: acct },
    };
  } else {
    object = { id: `plan_${n}`, object: "plan", amount: 2000, currency: "usd" };
  }
  const connect = type === "account.updated";
  return JSON.stringify({
    id,
    object: "event",
    api_version: "2026-10-28.endive",
    created,
    livemode: false,
    pending_webhooks: 1,
    type,
    ...(connect ? { account: acct } : {}),
    data: { object },
  });
}

async function load(
  url: string,
  types: string[],
  seconds: number,
  connections: number,
  overallRate?: number,
): Promise<AutocannonResult> {
  let i = 0;
  return autocannon({
    url,
    connections,
    duration: seconds,
    ...(overallRate ? { overallRate } : {}),
    requests: [
      {
        method: "POST",
        setupRequest: (req: AutocannonRequest) => {
          const type = types[i++ % types.length]!;
          const body = makeEvent(type);
          const secret = type === "account.updated" ? CONNECT_SECRET : SECRET;
          const signature = Stripe.webhooks.generateTestHeaderString({ payload: body, secret });
          return {
            ...req,
            method: "POST",
            body,
            headers: { "content-type": "application/json", "stripe-signature": signature },
          };
        },
      },
    ],
  });
}

type OpenLoopResult = { achieved: number; p50: number; p99: number; errors: number };

/** `rate` signed events per second for `seconds`, each sent at its due moment on a pool of keep-alive sockets. */
async function openLoop(
  url: string,
  types: string[],
  seconds: number,
  rate: number,
): Promise<OpenLoopResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const target = new URL(url);
  const latencies: number[] = [];
  let errors = 0;
  let i = 0;
  const total = Math.round(rate * seconds);
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  const send = (due: number) => {
    const type = types[i++ % types.length]!;
    const body = makeEvent(type);
    const secret = type === "account.updated" ? CONNECT_SECRET : SECRET;
    const signature = Stripe.webhooks.generateTestHeaderString({ payload: body, secret });
    return new Promise<void>((resolve) => {
      const req = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: "POST",
          agent,
          headers: {
            "content-type": "application/json",
            "stripe-signature": signature,
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            if (res.statusCode !== 200) errors++;
            latencies.push(performance.now() - due);
            resolve();
          });
        },
      );
      req.on("error", () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  };
  for (let n = 0; n < total; n++) {
    const due = start + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(send(due));
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { achieved: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors };
}

async function main() {
  ACCOUNTS = Number(args.accounts);
  if (args["floor-server"]) return runFloorServer(Number(args.port), process.env.DATABASE_URL!);

  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
  if (buildIsStale()) {
    console.info("building (next build)...");
    const build = (...extra: string[]) =>
      spawnSync("flock", ["/tmp/payrun-next-build.lock", "npx", "next", "build", ...extra], {
        stdio: "inherit",
        env,
      });
    if (build().status !== 0) {
      // A full build also type-checks the whole repo; work in progress elsewhere must not block a benchmark.
      console.warn("next build failed; retrying in compile mode (no type check, no prerender)");
      const compiled = build("--experimental-build-mode", "compile");
      if (compiled.status !== 0) process.exit(compiled.status ?? 1);
    }
  }

  const dbName = `payrun_bench_webhooks_${process.pid}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${dbName}`);
  const url = dbUrl(dbName);
  const handle = connectPostgres(url, { max: 2 });
  const children: ChildProcess[] = [];
  try {
    await migrateDb(handle);
    for (let a = 0; a < ACCOUNTS; a++) {
      const [p] = await handle.db
        .insert(payees)
        .values({ displayName: `Bench ${a}`, email: `b${a}@example.com` })
        .returning();
      await handle.db
        .insert(connectedAccounts)
        .values({ payeeId: p!.id, stripeAccountId: `acct_bench_${a}` });
    }
    const appPort = 3900 + (process.pid % 50);
    const floorPort = appPort + 100;
    const childEnv = {
      ...env,
      NODE_ENV: "production" as const,
      PAYRUN_LOCAL: "1",
      DATABASE_URL: url,
      STRIPE_WEBHOOK_SECRET: SECRET,
      STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_SECRET,
      STRIPE_WEBHOOK_SECRET_PREVIOUS: "",
      STRIPE_CONNECT_WEBHOOK_SECRET_PREVIOUS: "",
      PAYOUT_RESERVE_PERCENT: "10",
      VERCEL: "",
    };
    // Own process groups, so stopping them stops the node servers npx starts too.
    children.push(
      spawn("npx", ["next", "start", "-p", String(appPort)], {
        stdio: "ignore",
        env: childEnv,
        detached: true,
      }),
    );
    children.push(
      spawn("npx", ["tsx", "lib/cli/bench-webhooks.ts", "--floor-server", "--port", String(floorPort)], {
        stdio: "inherit",
        env: childEnv,
        detached: true,
      }),
    );
    const appUrl = `http://127.0.0.1:${appPort}/webhooks/stripe`;
    const floorUrl = `http://127.0.0.1:${floorPort}/webhooks/stripe`;
    // Both servers answer an unsigned POST with 400 once they are up.
    const up = { init: { method: "POST", body: "{}" }, ready: (res: Response) => res.status === 400 };
    await Promise.all([
      waitForHttp(appUrl, { timeoutMs: 120_000, ...up }),
      waitForHttp(floorUrl, { timeoutMs: 60_000, ...up }),
    ]);

    const types = args.mix!.split(",").map((t) => t.trim());
    const seconds = Number(args.duration);
    const connections = Number(args.connections);
    console.info(
      `mix: ${types.join(", ")}; ${connections} connections; ${seconds} s each after a 3 s warm-up`,
    );
    await load(floorUrl, types, 3, connections);
    await load(appUrl, types, 3, connections);
    const floor = await load(floorUrl, types, seconds, connections);
    // The same Next.js route with events it only stores (an unused type): Next's own cost per request.
    const nextFloor = await load(appUrl, ["plan.created"], seconds, connections);
    const app = await load(appUrl, types, seconds, connections);

    const row = (name: string, r: AutocannonResult) =>
      `${name.padEnd(40)} ${r.requests.average.toFixed(0).padStart(6)} ev/s   p50 ${String(r.latency.p50).padStart(4)} ms   p99 ${String(r.latency.p99).padStart(4)} ms   non-2xx ${r.non2xx}  errors ${r.errors + r.timeouts}`;
    console.info(row("floor: node:http, verify + insert", floor));
    console.info(row("next start, store only (plan.created)", nextFloor));
    console.info(row(`next start, full apply (${types.length} types)`, app));
    console.info(`ratio app/floor throughput: ${(app.requests.average / floor.requests.average).toFixed(2)}`);
    console.info(
      `ratio app/(next, store only) throughput: ${(app.requests.average / nextFloor.requests.average).toFixed(2)}`,
    );

    // Open loop: requests sent at evenly spaced moments whatever the answers (a sender that waits for
    // answers hides queueing: coordinated omission), latency measured from each request's due time.
    const rate = Number(args.rate);
    const openStore = await openLoop(appUrl, ["plan.created"], seconds, rate);
    const openApp = await openLoop(appUrl, types, seconds, rate);
    const openRow = (name: string, r: OpenLoopResult) =>
      `${name.padEnd(40)} ${r.achieved.toFixed(0).padStart(6)} ev/s   p50 ${r.p50.toFixed(0).padStart(4)} ms   p99 ${r.p99.toFixed(0).padStart(4)} ms   errors ${r.errors}`;
    console.info(`open loop at ${rate} events/s offered, evenly spaced, ${seconds} s:`);
    console.info(openRow("  next start, store only (plan.created)", openStore));
    console.info(openRow(`  next start, full apply (${types.length} types)`, openApp));
    console.info(
      `p99 at ${rate} events/s: store only ${openStore.p99.toFixed(0)} ms, full apply ${openApp.p99.toFixed(0)} ms (target < 50 ms)`,
    );
    console.info(
      `load average during the run: ${(await import("node:os"))
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
    );
    const counts = await queryRows(
      handle.db,
      sql`select status, count(*)::int as n from processor_events group by status order by status`,
    );
    console.info(`stored events: ${JSON.stringify(counts)}`);
  } finally {
    for (const c of children) if (c.pid) process.kill(-c.pid, "SIGTERM");
    await handle.close();
    if (!args["keep-db"]) {
      await new Promise((r) => setTimeout(r, 500));
      await admin.unsafe(`drop database if exists ${dbName} with (force)`);
    }
    await admin.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
