import type { Env } from "../env";
import { getStripe } from "../stripe/client";
import { createStripeGateway, type StripeGateway } from "../stripe/gateway";
import type { HandlerContext } from "./types";

let gateway: StripeGateway | undefined;

/** What the app's handlers get: configuration, and the Stripe gateway built only if an event needs it. */
export function appWebhookDeps(env: Env): { env: HandlerContext["env"]; gateway: () => StripeGateway } {
  return {
    env,
    gateway: () => {
      gateway ??= createStripeGateway(getStripe());
      return gateway;
    },
  };
}
