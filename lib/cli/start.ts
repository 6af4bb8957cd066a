// `npm start`: Payrun on the embedded default in one command. Builds if needed, then runs:
//   - the local Stripe simulator (when STRIPE_SECRET_KEY is unset), webhooks pointed at the app
//   - the demo data, once, on a new embedded database
//   - `next start` on PORT (default 3000)
//   - the local scheduler firing the same schedules QStash would (when QSTASH_TOKEN is unset)
// Pass --dev to run `next dev` instead of building.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { embeddedSocketPath } from "../../db/client";
import { EnvError, loadEnv } from "../env";
import { buildIsStale, runWithProgress, waitForHttp } from "./dev-server";

const dev = process.argv.includes("--dev");
const port = Number(process.env.PORT ?? 3000);
const appUrl = `http://127.0.0.1:${port}`;
mkdirSync(".data", { recursive: true });

// Local secrets are made once and kept in .data/, so curl commands keep working across restarts.
type LocalSecrets = { cronSecret: string; webhookSecret: string; connectWebhookSecret: string };
const secretsPath = ".data/local-secrets.json";
const secrets: LocalSecrets = existsSync(secretsPath)
  ? JSON.parse(readFileSync(secretsPath, "utf8"))
  : {
      cronSecret: randomBytes(24).toString("base64url"),
      webhookSecret: `whsec_${randomBytes(24).toString("base64url")}`,
      connectWebhookSecret: `whsec_${randomBytes(24).toString("base64url")}`,
    };
writeFileSync(secretsPath, JSON.stringify(secrets, null, 2), { mode: 0o600 });

const useSimulator = !process.env.STRIPE_SECRET_KEY && !process.env.STRIPE_API_BASE_URL;
const childEnv: NodeJS.ProcessEnv = {
  ...process.env,
  NEXT_TELEMETRY_DISABLED: "1",
  // `next start` sets NODE_ENV=production; this is a run on this machine, not a deployment (lib/env.ts).
  PAYRUN_LOCAL: "1",
  PORT: String(port),
  APP_BASE_URL: process.env.APP_BASE_URL ?? `http://localhost:${port}`,
  CRON_SECRET_KEY: process.env.CRON_SECRET_KEY ?? secrets.cronSecret,
  STRIPE_WEBHOOK_SECRET: process.env.STRIPE_WEBHOOK_SECRET ?? secrets.webhookSecret,
  STRIPE_CONNECT_WEBHOOK_SECRET: process.env.STRIPE_CONNECT_WEBHOOK_SECRET ?? secrets.connectWebhookSecret,
};
if (useSimulator) {
  childEnv.STRIPE_API_BASE_URL = `http://127.0.0.1:${process.env.STRIPE_SIMULATOR_PORT ?? 12111}`;
}

let env: ReturnType<typeof loadEnv>;
try {
  env = loadEnv(childEnv);
} catch (error) {
  if (error instanceof EnvError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
Object.assign(process.env, childEnv);

const children: ChildProcess[] = [];
const stoppers: (() => Promise<void> | void)[] = [];
let stopping = false;
async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill("SIGTERM");
  for (const stop of stoppers.reverse()) await stop();
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

if (!dev && buildIsStale()) {
  // next build prints little while it compiles, which takes minutes on a small machine the first time.
  const status = await runWithProgress("npx", ["next", "build"], {
    env: childEnv,
    what: "building the app (next build; the first build takes a few minutes)",
  });
  if (status !== 0) process.exit(status);
}

let demoSimulator: import("../demo/seed").DemoSimulator | undefined;
if (useSimulator) {
  const { startStripeSimulator } = await import("../stripe/simulator/index");
  const simulator = await startStripeSimulator({
    port: env.STRIPE_SIMULATOR_PORT,
    webhookUrl: `${appUrl}/webhooks/stripe`,
    webhookSecret: env.STRIPE_WEBHOOK_SECRET,
    connectWebhookSecret: env.STRIPE_CONNECT_WEBHOOK_SECRET,
    platformBalanceCents: env.STRIPE_SIMULATOR_PLATFORM_BALANCE_CENTS,
    statePath: ".data/stripe-simulator.json",
  });
  stoppers.push(() => simulator.close());
  console.info(`[payrun] Stripe simulator on ${simulator.url} (control API: ${simulator.url}/_simulator/)`);
  demoSimulator = simulator;
}

// Seed before the app starts: on the embedded default this process serves the database meanwhile,
// then stops, and the app serves it to every other process (the CLIs, psql).
{
  const { seedDemoIfEmpty } = await import("../demo/seed");
  await seedDemoIfEmpty(env, { simulator: demoSimulator });
}

const next = spawn("npx", ["next", dev ? "dev" : "start", "-p", String(port)], { stdio: "inherit", env: childEnv });
children.push(next);
next.on("exit", (code) => void shutdown(code ?? 0));

await waitForHttp(`${appUrl}/`, { timeoutMs: 120_000, child: next });

if (env.schedulerMode === "local") {
  const { scheduleDefinitions, startLocalScheduler } = await import("../scheduler");
  const scheduler = startLocalScheduler({
    baseUrl: appUrl,
    cronSecret: env.CRON_SECRET_KEY!,
    definitions: scheduleDefinitions(env),
  });
  stoppers.push(() => scheduler.stop());
}

const database =
  env.databaseMode === "pglite"
    ? `embedded PGlite in ${env.PGLITE_DIR}, served by the app to this machine's other processes:
                    every npm run ... command (outbox:relay, events:backfill, db:migrate, ...) connects by itself
                    psql "host=${path.dirname(embeddedSocketPath(env.PGLITE_DIR))} user=postgres dbname=postgres"`
    : `${new URL(env.DATABASE_URL!).host} (DATABASE_URL)`;

console.info(`
Payrun is running on ${appUrl}
  payee dashboard   ${appUrl}/dashboard      (sign in as a demo user at ${appUrl}/sign-in)
  ops console       ${appUrl}/ops
  cron secret       ${env.CRON_SECRET_KEY}   (kept in ${secretsPath})
  database          ${database}

  curl -s -H "X-Cron-Secret: ${env.CRON_SECRET_KEY}" ${appUrl}/internal/payouts/health
  curl -s -X POST -H "X-Cron-Secret: ${env.CRON_SECRET_KEY}" -H "content-type: application/json" \\
       -d '{"dryRun":true}' ${appUrl}/internal/payouts/run
`);
