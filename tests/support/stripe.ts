import type Stripe from "stripe";
import { createStripeClient } from "../../lib/stripe/client";
import { createStripeGateway, type StripeGateway } from "../../lib/stripe/gateway";
import {
  type StripeSimulator,
  type StripeSimulatorOptions,
  startStripeSimulator,
} from "../../lib/stripe/simulator";

export interface TestStripe {
  simulator: StripeSimulator;
  /** The real SDK pointed at the simulator. */
  stripe: Stripe;
  gateway: StripeGateway;
  close(): Promise<void>;
}

export interface StartTestStripeOptions extends StripeSimulatorOptions {
  /** The gateway's retries of a retryable failure (default 3, as the app's; the SDK's own are off). */
  maxRetries?: number;
  timeoutMs?: number;
}

/** One line for any test that needs Stripe: a fresh simulator on a random port, the SDK and the gateway. */
export async function startTestStripe(options: StartTestStripeOptions = {}): Promise<TestStripe> {
  const { maxRetries = 3, timeoutMs = 10_000, ...simulatorOptions } = options;
  const simulator = await startStripeSimulator({ port: 0, webhookRetryBaseMs: 50, ...simulatorOptions });
  const stripe = createStripeClient({ secretKey: "sk_test_simulator", apiBaseUrl: simulator.url, timeoutMs });
  return { simulator, stripe, gateway: createStripeGateway(stripe, { maxRetries }), close: () => simulator.close() };
}

/** Creates an Express account through the gateway and onboards it, as a payee that can be paid. */
export async function createOnboardedPayee(
  testStripe: TestStripe,
  payeeId: string,
  email = `${payeeId}@example.com`,
): Promise<Stripe.Account> {
  const account = await testStripe.gateway.createExpressAccount({
    email,
    country: "US",
    payeeId,
    idempotencyKey: `acct-${payeeId}`,
  });
  testStripe.simulator.onboardAccount(account.id);
  return testStripe.gateway.retrieveAccount(account.id);
}

/**
 * A stand-in for some of the gateway's methods, for a test that must make Stripe answer one way (or
 * fail): typed as the Pick of the gateway a module takes. The answers need only the fields the code
 * under test reads.
 */
export function fakeGateway(methods: { [P in keyof StripeGateway]?: (...args: never[]) => Promise<unknown> }): StripeGateway {
  return methods as unknown as StripeGateway;
}
