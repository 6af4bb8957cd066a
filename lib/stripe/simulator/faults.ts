/** Latency in milliseconds: fixed, or uniformly random in [min, max]. */
export type LatencySpec = number | { min: number; max: number };

/** Faults for one endpoint ("POST /v1/payouts", the route pattern) or for all of them. */
export interface EndpointFaults {
  latencyMs?: LatencySpec;
  /** Requests per second admitted on this endpoint before answering 429. */
  rateLimitPerSecond?: number;
  /** Answer 500 (api_error) with this probability (0..1)... */
  errorRate?: number;
  /** ...or for the next N requests. */
  errorCount?: number;
  /** Answer 429 lock_timeout (Stripe-Should-Retry: true) for the next N requests. */
  lockTimeoutCount?: number;
  /** Destroy the connection with this probability, or for the next N requests. */
  dropRate?: number;
  dropCount?: number;
  /** "before": the request never runs; "after": it runs (and its idempotent result is saved) but the answer is lost. */
  dropPhase?: "before" | "after";
}

export interface RateLimits {
  globalPerSecond?: number;
  perEndpointPerSecond?: number;
  payoutsPerSecond?: number;
  /**
   * POST /v1/billing/meter_events has its own limit in live mode (1,000/s), apart from the global and
   * per-endpoint ones, and takes one call at a time per customer and meter (a second one while the
   * first is in flight is a 429).
   */
  meterEventsPerSecond?: number;
}

export interface WebhookFaults {
  /** Probability (0..1) that a delivery is sent twice. */
  duplicateRate?: number;
  /** Deliver each batch of queued events in reverse order. */
  reorder?: boolean;
}

export interface FaultConfig {
  all?: EndpointFaults;
  endpoints?: Record<string, EndpointFaults>;
  rateLimits?: RateLimits;
  webhooks?: WebhookFaults;
}

/** Stripe's documented live-mode limits. */
export const STRIPE_LIVE_RATE_LIMITS: Required<RateLimits> = {
  globalPerSecond: 100,
  perEndpointPerSecond: 25,
  payoutsPerSecond: 15,
  meterEventsPerSecond: 1000,
};

/** The endpoint with its own limit (meterEventsPerSecond) instead of the global and per-endpoint ones. */
export const METER_EVENTS_ENDPOINT = "POST /v1/billing/meter_events";

export type FaultDecision =
  | { kind: "none"; latencyMs: number; dropAfter: boolean }
  | { kind: "rate_limited"; latencyMs: number }
  | { kind: "lock_timeout"; latencyMs: number }
  | { kind: "server_error"; latencyMs: number }
  | { kind: "drop"; latencyMs: number };

function latencyOf(spec: LatencySpec | undefined): number {
  if (spec === undefined) return 0;
  if (typeof spec === "number") return Math.max(0, spec);
  return Math.max(0, spec.min + Math.random() * Math.max(0, spec.max - spec.min));
}

/** Fixed one-second windows, counted only for admitted requests. */
class RateWindow {
  private second = 0;
  private count = 0;

  admit(limit: number, nowMs: number): boolean {
    const second = Math.floor(nowMs / 1000);
    if (second !== this.second) {
      this.second = second;
      this.count = 0;
    }
    if (this.count >= limit) return false;
    this.count++;
    return true;
  }
}

/** Decides, per request, which injected fault (if any) applies. O(1) per request. */
export class FaultInjector {
  private config: FaultConfig = {};
  private readonly windows = new Map<string, RateWindow>();

  set(config: FaultConfig): void {
    this.config = structuredClone(config);
  }

  /** Merges into the current configuration (endpoints are merged by name). */
  merge(config: FaultConfig): void {
    const current = this.config;
    this.config = {
      all: config.all ?? current.all,
      endpoints: { ...current.endpoints, ...config.endpoints },
      rateLimits: config.rateLimits ?? current.rateLimits,
      webhooks: config.webhooks ?? current.webhooks,
    };
  }

  get(): FaultConfig {
    return structuredClone(this.config);
  }

  webhookFaults(): WebhookFaults {
    return this.config.webhooks ?? {};
  }

  private window(key: string): RateWindow {
    let window = this.windows.get(key);
    if (!window) {
      window = new RateWindow();
      this.windows.set(key, window);
    }
    return window;
  }

  private static take(
    faults: EndpointFaults | undefined,
    countKey: "errorCount" | "dropCount" | "lockTimeoutCount",
    rateKey?: "errorRate" | "dropRate",
  ): boolean {
    if (!faults) return false;
    const count = faults[countKey];
    if (count !== undefined && count > 0) {
      faults[countKey] = count - 1;
      return true;
    }
    const rate = rateKey ? faults[rateKey] : undefined;
    return rate !== undefined && rate > 0 && Math.random() < rate;
  }

  /** Whether meter events are limited as in live mode (their own limit, one call per customer and meter). */
  meterEventsLimited(): boolean {
    return this.config.rateLimits?.meterEventsPerSecond !== undefined;
  }

  decide(endpoint: string): FaultDecision {
    const { all, endpoints, rateLimits } = this.config;
    const specific = endpoints?.[endpoint];
    const latencyMs = latencyOf(specific?.latencyMs ?? all?.latencyMs);
    const nowMs = Date.now();
    const limits: Array<[string, number | undefined]> =
      endpoint === METER_EVENTS_ENDPOINT && rateLimits?.meterEventsPerSecond !== undefined
        ? [[`endpoint:${endpoint}`, specific?.rateLimitPerSecond ?? rateLimits.meterEventsPerSecond]]
        : [
            ["global", rateLimits?.globalPerSecond],
            [
              `endpoint:${endpoint}`,
              specific?.rateLimitPerSecond ?? all?.rateLimitPerSecond ?? rateLimits?.perEndpointPerSecond,
            ],
          ];
    if (endpoint === "POST /v1/payouts") limits.push(["payouts", rateLimits?.payoutsPerSecond]);
    for (const [key, limit] of limits) {
      if (limit !== undefined && !this.window(key).admit(limit, nowMs))
        return { kind: "rate_limited", latencyMs };
    }
    if (FaultInjector.take(specific, "lockTimeoutCount") || FaultInjector.take(all, "lockTimeoutCount"))
      return { kind: "lock_timeout", latencyMs };
    if (
      FaultInjector.take(specific, "errorCount", "errorRate") ||
      FaultInjector.take(all, "errorCount", "errorRate")
    )
      return { kind: "server_error", latencyMs };
    const dropSource = FaultInjector.take(specific, "dropCount", "dropRate")
      ? specific
      : FaultInjector.take(all, "dropCount", "dropRate")
        ? all
        : undefined;
    if (dropSource) {
      return dropSource.dropPhase === "after"
        ? { kind: "none", latencyMs, dropAfter: true }
        : { kind: "drop", latencyMs };
    }
    return { kind: "none", latencyMs, dropAfter: false };
  }
}
