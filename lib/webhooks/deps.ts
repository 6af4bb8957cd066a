import type { Env } from "../env";
import { getStripeGateway } from "../stripe/client";
import type { StripeGateway } from "../stripe/gateway";
import type { HandlerContext } from "./types";

/** What the app's handlers get: configuration, and the Stripe gateway built only if an event needs it. */
export function appWebhookDeps(env: Env): { env: HandlerContext["env"]; gateway: () => StripeGateway } {
  return {
    env,
    gateway: getStripeGateway,
  };
}
