// Client-side limiter for Stripe: requests are spaced evenly under every limit that applies to them
// (overall, per endpoint, payouts), so a run never bursts into 429s. Waiting is a promise per call.

export type StripeEndpoint = "transfers" | "payouts" | "list_transfers" | "list_payouts";

export type RateLimits = { overall: number; perEndpoint: number; payouts: number };

const SAFETY = 0.95;

class Pacer {
  private next = 0;
  constructor(private readonly intervalMs: number) {}
  /** The earliest time this pacer allows, reserving the slot after it. */
  earliest(now: number): number {
    return Math.max(now, this.next);
  }
  reserve(at: number): void {
    this.next = at + this.intervalMs;
  }
  holdUntil(at: number): void {
    this.next = Math.max(this.next, at);
  }
}

export class StripeRateLimiter {
  private readonly overall: Pacer;
  private readonly endpoints = new Map<StripeEndpoint, Pacer[]>();
  readonly counts: Record<string, number> = {};

  constructor(limits: RateLimits) {
    // A little under each limit: requests leave evenly spaced but arrive with network jitter.
    const interval = (perSecond: number) => 1000 / (perSecond * SAFETY);
    this.overall = new Pacer(interval(limits.overall));
    for (const endpoint of ["transfers", "payouts", "list_transfers", "list_payouts"] as const) {
      const pacers = [new Pacer(interval(limits.perEndpoint))];
      if (endpoint === "payouts") pacers.push(new Pacer(interval(limits.payouts)));
      this.endpoints.set(endpoint, pacers);
    }
  }

  /**
   * Resolves when a call to `endpoint` may go out; the slot is taken synchronously, so order is kept.
   * With `notAfter`, a slot later than that is not taken and the answer is false (out of time).
   */
  async acquire(endpoint: StripeEndpoint, notAfter?: number): Promise<boolean> {
    const pacers = [this.overall, ...(this.endpoints.get(endpoint) ?? [])];
    const now = Date.now();
    const at = Math.max(...pacers.map((p) => p.earliest(now)));
    if (notAfter !== undefined && at > notAfter) return false;
    for (const p of pacers) p.reserve(at);
    this.counts[endpoint] = (this.counts[endpoint] ?? 0) + 1;
    const wait = at - now;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    return true;
  }

  /** After a 429: push every pacer of the endpoint back, so the burst does not repeat. */
  backOff(endpoint: StripeEndpoint, ms: number): void {
    const until = Date.now() + ms;
    for (const p of this.endpoints.get(endpoint) ?? []) p.holdUntil(until);
  }
}

export function limitsFromEnv(env: {
  STRIPE_RATE_LIMIT_PER_SECOND: number;
  STRIPE_RATE_LIMIT_PER_ENDPOINT: number;
  STRIPE_PAYOUT_RATE_LIMIT: number;
}): RateLimits {
  return {
    overall: env.STRIPE_RATE_LIMIT_PER_SECOND,
    perEndpoint: env.STRIPE_RATE_LIMIT_PER_ENDPOINT,
    payouts: env.STRIPE_PAYOUT_RATE_LIMIT,
  };
}
