import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { openScratchDatabase, type ScratchDb } from "../../../db/scratch";
import { seedDemo } from "../../../lib/demo/seed";
import { buildIsStale, freePort, waitForHttp } from "../../../lib/cli/dev-server";
import { loadEnv } from "../../../lib/env";
import { SIMULATOR_SECRET_KEY } from "../../../lib/stripe/client";
import type { StripeSimulator } from "../../../lib/stripe/simulator";
import { TEST_DATABASE_URL } from "../../support/pg-urls";
import { CHROMIUM } from "./chromium";
import { startTestStripe } from "../../support/stripe";

// One app for the whole e2e project: Debian's chromium (installed here if missing), a production
// build of the app (rebuilt when sources are newer), the Stripe simulator in this process, a scratch
// database (a fresh database on the real Postgres, else a temp PGlite dir), the demo data, and
// `next start` on a free port. Tests get the URLs through inject().

const ROOT = path.resolve(import.meta.dirname, "../../..");
const WEBHOOK_SECRET = "whsec_e2e_platform_secret";
const CONNECT_WEBHOOK_SECRET = "whsec_e2e_connect_secret";
const CRON_SECRET = `e2e-cron-${randomBytes(12).toString("hex")}`;

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    simulatorUrl: string;
    databaseUrl: string | null;
    cronSecret: string;
  }
}

function log(message: string) {
  console.info(`[e2e] ${message}`);
}

function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  log("chromium is missing: apt-get update && apt-get install -y chromium (about 40 s)");
  execFileSync("sh", ["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium"], {
    stdio: "inherit",
  });
}

function ensureBuild() {
  if (!buildIsStale(ROOT)) {
    log("production build is up to date");
    return;
  }
  log("building the app (next build)");
  execFileSync("npx", ["next", "build"], {
    cwd: ROOT,
    stdio: "inherit",
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
  });
}

export default async function setup(project: TestProject) {
  mkdirSync(path.join(ROOT, "tests/e2e/screenshots"), { recursive: true });
  ensureChromium();
  ensureBuild();

  const appPort = await freePort();
  const baseUrl = `http://127.0.0.1:${appPort}`;
  let simulator: StripeSimulator | undefined;
  let db: ScratchDb | undefined;
  let app: ChildProcess | undefined;

  const teardown = async () => {
    if (app && app.exitCode === null) {
      app.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 500));
      if (app.exitCode === null) app.kill("SIGKILL");
    }
    await simulator?.close().catch(() => {});
    await db?.drop();
  };

  try {
    const stripe = await startTestStripe({
      webhookUrl: `${baseUrl}/webhooks/stripe`,
      webhookSecret: WEBHOOK_SECRET,
      connectWebhookSecret: CONNECT_WEBHOOK_SECRET,
      webhookRetryBaseMs: 200,
      maxRetries: 2,
    });
    simulator = stripe.simulator;
    const gateway = stripe.gateway;
    log(`Stripe simulator at ${simulator.url}`);
    db = await openScratchDatabase({ serverUrl: TEST_DATABASE_URL, prefix: "payrun_e2e", log });
    // The same demo data a new install gets (lib/demo/seed.ts): five payees, earnings, and a run for
    // the previous cycle in which one payout failed at the bank (account_closed).
    const seedEnv = loadEnv({ NODE_ENV: "test", STRIPE_API_BASE_URL: simulator.url, PAYOUT_TIMEZONE: "UTC" });
    log(`demo data: ${await seedDemo(db.handle.db, seedEnv, gateway, simulator)}`);
    if (!db.databaseUrl) {
      // PGlite allows one process: hand the data dir to the app.
      await db.handle.close();
    }

    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/root",
      NODE_ENV: "production",
      PAYRUN_LOCAL: "1",
      NEXT_TELEMETRY_DISABLED: "1",
      ...db.env,
      CRON_SECRET_KEY: CRON_SECRET,
      STRIPE_SECRET_KEY: SIMULATOR_SECRET_KEY,
      STRIPE_API_BASE_URL: simulator.url,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_WEBHOOK_SECRET,
      APP_BASE_URL: baseUrl,
      PAYOUT_TIMEZONE: "UTC",
      // A difference made on purpose is a break at once, not after five minutes (reconciliation.test.ts).
      RECON_GRACE_SECONDS: "0",
      // Invoice capture and refund for pilot clients (the demo invoice's client is in the pilot).
      BILLING_ROLLOUT_STAGE: "pilot",
      // Four-eyes approval above $20,000: no demo payout reaches it; payout-approvals.test.ts makes its own.
      PAYOUT_APPROVAL_THRESHOLD_CENTS: '{"usd":2000000}',
    };
    log(`starting next start on ${baseUrl}`);
    const child = spawn(path.join(ROOT, "node_modules/.bin/next"), ["start", "-p", String(appPort), "-H", "127.0.0.1"], {
      cwd: ROOT,
      env: env as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    app = child;
    child.stdout?.on("data", (d: Buffer) => {
      if (process.env.E2E_VERBOSE) process.stdout.write(`[next] ${d}`);
    });
    child.stderr?.on("data", (d: Buffer) => process.stderr.write(`[next] ${d}`));
    await waitForHttp(`${baseUrl}/sign-in`, { timeoutMs: 60_000, child });
    log("app is up");
  } catch (error) {
    await teardown();
    throw error;
  }

  project.provide("baseUrl", baseUrl);
  project.provide("simulatorUrl", simulator.url);
  project.provide("databaseUrl", db.databaseUrl);
  project.provide("cronSecret", CRON_SECRET);
  return teardown;
}
