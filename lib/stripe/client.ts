import Stripe from "stripe";
import { getEnv, SIMULATOR_SECRET_KEY } from "../env";
import { createStripeGateway, type StripeGateway } from "./gateway";
import { limitsFromEnv, processLimiter } from "./limiter";

/** The API version the stripe 23.1.0 SDK is built for; pinned so an SDK upgrade never changes it silently. */
export const STRIPE_API_VERSION = "2026-10-28.endive" satisfies Stripe.LatestApiVersion;

export { SIMULATOR_SECRET_KEY };

export interface CreateStripeClientOptions {
  secretKey: string;
  /** e.g. http://127.0.0.1:12111 for the simulator; unset means api.stripe.com. */
  apiBaseUrl?: string;
  maxNetworkRetries?: number;
  timeoutMs?: number;
}

/**
 * The one place an SDK client is built: pinned version, host/port/protocol from the base URL, and
 * the SDK's own retries off: the gateway's call path (lib/stripe/call.ts) retries, paced by the rate
 * limiter, so a call is never retried by two layers at once.
 */
export function createStripeClient(opts: CreateStripeClientOptions): Stripe {
  const config: Stripe.StripeConfig = {
    apiVersion: STRIPE_API_VERSION,
    maxNetworkRetries: opts.maxNetworkRetries ?? 0,
    timeout: opts.timeoutMs ?? 30_000,
    typescript: true,
    appInfo: { name: "payrun" },
  };
  if (opts.apiBaseUrl) {
    const base = new URL(opts.apiBaseUrl);
    const protocol = base.protocol === "http:" ? "http" : "https";
    config.host = base.hostname;
    config.protocol = protocol;
    config.port = base.port ? Number(base.port) : protocol === "http" ? 80 : 443;
    // Request-latency telemetry is for Stripe; a stand-in has no use for it, and at a thousand calls
    // a second the SDK warns that its buffer is full.
    config.telemetry = false;
  }
  return new Stripe(opts.secretKey, config);
}

/** Where the app's Stripe traffic goes: the configured base URL, else Stripe, else the local simulator. */
export function resolveStripeTarget(): { secretKey: string; apiBaseUrl: string | undefined } {
  const env = getEnv();
  if (env.stripeMode !== "simulator")
    return { secretKey: env.STRIPE_SECRET_KEY ?? "", apiBaseUrl: env.STRIPE_API_BASE_URL };
  return {
    secretKey: env.STRIPE_SECRET_KEY ?? SIMULATOR_SECRET_KEY,
    apiBaseUrl: env.STRIPE_API_BASE_URL ?? `http://127.0.0.1:${env.STRIPE_SIMULATOR_PORT}`,
  };
}

let memoized: Stripe | undefined;
let memoizedGateway: StripeGateway | undefined;

/** The process's SDK client, built once from configuration. */
export function getStripe(): Stripe {
  if (!memoized) memoized = createStripeClient(resolveStripeTarget());
  return memoized;
}

/**
 * The process's gateway over that client: what the app's routes, sweeps, actions and scripts use.
 * Its calls share the process's rate limiter and are retried up to 3 times.
 */
export function getStripeGateway(): StripeGateway {
  if (!memoizedGateway) {
    memoizedGateway = createStripeGateway(getStripe(), { limiter: processLimiter(limitsFromEnv(getEnv())), maxRetries: 3 });
  }
  return memoizedGateway;
}

/** Tests that change configuration call this so the next getStripe()/getStripeGateway() rebuild. */
export function resetStripeClient(): void {
  memoized = undefined;
  memoizedGateway = undefined;
}
