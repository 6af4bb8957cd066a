// Runs the local Stripe simulator as its own process (`npm run stripe:simulator`).
// Configuration comes from the environment; the simulator itself never reads app config.
import { loadEnv } from "../env";
import { startStripeSimulator } from "../stripe/simulator";

const env = loadEnv();

/** STRIPE_SIMULATOR_LATENCY_MS: "200" or "150-300" (milliseconds added to every API request). */
function latencyFromEnv(value: string | undefined): number | { min: number; max: number } | undefined {
  if (!value) return undefined;
  const [min, max] = value.split("-").map((part) => Number(part.trim()));
  if (min === undefined || !Number.isFinite(min))
    throw new Error("STRIPE_SIMULATOR_LATENCY_MS must look like 200 or 150-300");
  return max !== undefined && Number.isFinite(max) ? { min, max } : min;
}

const simulator = await startStripeSimulator({
  port: env.STRIPE_SIMULATOR_PORT,
  host: process.env.STRIPE_SIMULATOR_HOST ?? "127.0.0.1",
  webhookUrl: env.STRIPE_SIMULATOR_WEBHOOK_URL,
  webhookSecret: env.STRIPE_WEBHOOK_SECRET,
  connectWebhookSecret: env.STRIPE_CONNECT_WEBHOOK_SECRET,
  platformBalanceCents: env.STRIPE_SIMULATOR_PLATFORM_BALANCE_CENTS,
  currency: env.PLATFORM_DEFAULT_CURRENCY,
  liveLimits:
    process.env.STRIPE_SIMULATOR_LIVE_LIMITS === "true"
      ? {
          globalPerSecond: env.STRIPE_RATE_LIMIT_PER_SECOND,
          perEndpointPerSecond: env.STRIPE_RATE_LIMIT_PER_ENDPOINT,
          payoutsPerSecond: env.STRIPE_PAYOUT_RATE_LIMIT,
        }
      : undefined,
  latencyMs: latencyFromEnv(process.env.STRIPE_SIMULATOR_LATENCY_MS),
  // Optional: keep accounts, balances and payouts across restarts.
  statePath: process.env.STRIPE_SIMULATOR_STATE_PATH || undefined,
});

console.info(`Stripe simulator listening on ${simulator.url}`);
console.info(`  webhooks: ${env.STRIPE_SIMULATOR_WEBHOOK_URL ?? "(none: set STRIPE_SIMULATOR_WEBHOOK_URL)"}`);
console.info(`  control API: ${simulator.url}/_simulator/ (docs/STRIPE_SIMULATOR.md)`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.info(`Stripe simulator stopping (${signal})`);
  await simulator.close();
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
