// Client-side limiter for Stripe: requests are spaced evenly under every limit that applies to them
// (overall, per endpoint, payouts), so a run never bursts into 429s. Waiting is a promise per call.
// Every call through the gateway (lib/stripe/call.ts) takes a slot of its process's limiter.

export type RateLimits = {
  overall: number;
  perEndpoint: number;
  payouts: number;
  /** Meter events' own limit (Stripe: 1,000/s in live mode), instead of the overall and per-endpoint ones. */
  meterEvents?: number;
};

const SAFETY = 0.95;

class Pacer {
  private next = 0;
  constructor(readonly intervalMs: number) {}
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

/** Stripe's separate, lower limit on creating payouts applies to this operation. */
export const PAYOUT_CREATION = "payouts.create";
/** Stripe limits meter events on their own (apart from the global limit): this operation. */
export const METER_EVENT_CREATION = "billing.meterEvents.create";
/** Stripe's live-mode limit on meter events. */
export const STRIPE_METER_EVENT_LIMIT = 1000;

export class StripeRateLimiter {
  private readonly overall: Pacer;
  private readonly endpoints = new Map<string, Pacer[]>();
  readonly counts: Record<string, number> = {};

  constructor(private readonly limits: RateLimits) {
    this.overall = new Pacer(interval(limits.overall));
  }

  /** The pacers of one operation ("transfers.create", ...): Stripe limits each endpoint on its own. */
  private pacersOf(operation: string): Pacer[] {
    let pacers = this.endpoints.get(operation);
    if (!pacers) {
      pacers = [
        new Pacer(
          interval(operation === METER_EVENT_CREATION ? (this.limits.meterEvents ?? STRIPE_METER_EVENT_LIMIT) : this.limits.perEndpoint),
        ),
      ];
      if (operation === PAYOUT_CREATION) pacers.push(new Pacer(interval(this.limits.payouts)));
      this.endpoints.set(operation, pacers);
    }
    return pacers;
  }

  /** Every pacer a call to `operation` must pass: the overall one (except meter events) and its own. */
  private pacersFor(operation: string): Pacer[] {
    return operation === METER_EVENT_CREATION ? this.pacersOf(operation) : [this.overall, ...this.pacersOf(operation)];
  }

  /**
   * Resolves when a call to `operation` may go out; the slot is taken synchronously, so order is
   * kept. With `notAfter`, a slot later than that is not taken and the answer is false (out of time).
   */
  async acquire(operation: string, notAfter?: number): Promise<boolean> {
    const at = this.nextSlotAt(operation);
    if (notAfter !== undefined && at > notAfter) return false;
    for (const p of this.pacersFor(operation)) p.reserve(at);
    this.counts[operation] = (this.counts[operation] ?? 0) + 1;
    const wait = at - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    return true;
  }

  /** The earliest instant a call to `operation` could start. */
  nextSlotAt(operation: string): number {
    const pacers = this.pacersFor(operation);
    const now = Date.now();
    return Math.max(...pacers.map((p) => p.earliest(now)));
  }

  /**
   * How many calls to `operation` could still start by `notAfter`, counting the slots already
   * taken: a slice claims no more work than it can send before its deadline.
   */
  slotsBefore(operation: string, notAfter: number): number {
    const pacers = this.pacersFor(operation);
    const now = Date.now();
    let slots = Number.POSITIVE_INFINITY;
    for (const p of pacers) {
      const first = p.earliest(now);
      slots = Math.min(slots, first > notAfter ? 0 : Math.floor((notAfter - first) / p.intervalMs) + 1);
    }
    return slots;
  }

  /** After a 429: push every pacer of the operation back, so the burst does not repeat. */
  backOff(operation: string, ms: number): void {
    const until = Date.now() + ms;
    for (const p of this.pacersOf(operation)) p.holdUntil(until);
  }
}

// A little under each limit: requests leave evenly spaced but arrive with network jitter.
function interval(perSecond: number): number {
  return 1000 / (perSecond * SAFETY);
}

export function limitsFromEnv(env: {
  STRIPE_RATE_LIMIT_PER_SECOND: number;
  STRIPE_RATE_LIMIT_PER_ENDPOINT: number;
  STRIPE_PAYOUT_RATE_LIMIT: number;
  STRIPE_METER_EVENT_RATE_LIMIT?: number;
}): RateLimits {
  return {
    overall: env.STRIPE_RATE_LIMIT_PER_SECOND,
    perEndpoint: env.STRIPE_RATE_LIMIT_PER_ENDPOINT,
    payouts: env.STRIPE_PAYOUT_RATE_LIMIT,
    meterEvents: env.STRIPE_METER_EVENT_RATE_LIMIT ?? STRIPE_METER_EVENT_LIMIT,
  };
}

const sharedLimiters = new Map<string, StripeRateLimiter>();

/** One limiter per process and configuration: every Stripe call in this process shares Stripe's budget. */
export function processLimiter(limits: RateLimits): StripeRateLimiter {
  const key = JSON.stringify(limits);
  let limiter = sharedLimiters.get(key);
  if (!limiter) {
    limiter = new StripeRateLimiter(limits);
    sharedLimiters.set(key, limiter);
  }
  return limiter;
}
