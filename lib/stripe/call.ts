import { classifyStripeError, type ClassifiedStripeError, StripeGatewayError } from "./errors";
import type { StripeRateLimiter } from "./limiter";

// The one path every Stripe call takes (the gateway's methods go through it): a slot from the
// process's rate limiter, the SDK call (whose own retries are off: see lib/stripe/client.ts), and on
// a retryable failure (429, 5xx, a dropped connection, a lock timeout) the same request again, with
// the same idempotency key, after an exponential back-off, each try paced by the limiter like the
// first. So one call is at most `maxRetries + 1` HTTP requests, every one of them paced.

export type CallPolicy = {
  /** Paces every request; none: unpaced (tests of the SDK surface). */
  limiter?: StripeRateLimiter;
  /** Retries after the first try. */
  maxRetries: number;
  /** No request starts after this instant (a run slice's time budget): OutOfTime instead. */
  deadline?: number;
  /** Told of every retry (the run counts them). */
  onRetry?: (failure: ClassifiedStripeError) => void;
};

/**
 * The time budget ran out before a request could start. `requestsMade` says how many of this call's
 * requests went out before (0: nothing of this call reached Stripe).
 */
export class OutOfTime extends Error {
  constructor(
    readonly operation: string,
    readonly requestsMade: number,
  ) {
    super(`time budget spent before Stripe ${operation} could start`);
    this.name = "OutOfTime";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function callStripe<T>(operation: string, call: () => Promise<T>, policy: CallPolicy): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    if (policy.limiter && !(await policy.limiter.acquire(operation, policy.deadline))) throw new OutOfTime(operation, attempt);
    if (!policy.limiter && policy.deadline !== undefined && Date.now() > policy.deadline) throw new OutOfTime(operation, attempt);

    try {
      return await call();
    } catch (error) {
      const failure = classifyStripeError(error);
      if (!failure.retryable || attempt >= policy.maxRetries) throw new StripeGatewayError(operation, failure, { cause: error });
      policy.onRetry?.(failure);
      const delay = Math.min(8000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
      if (failure.kind === "rate_limited") policy.limiter?.backOff(operation, delay);
      await sleep(delay);
    }
  }
}
