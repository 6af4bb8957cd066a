import { createHmac } from "node:crypto";
import type { WebhookFaults } from "./faults";
import type { StoredObject } from "./types";

export interface WebhookConfig {
  url?: string;
  /** Signs platform events (and connect events when no connect secret is set). */
  secret: string;
  /** Signs events from connected accounts (a Connect endpoint's secret), when set. */
  connectSecret?: string;
  /** Deliver as events happen; when false, deliveries wait for `deliverPending()`. */
  autoDeliver: boolean;
  /** First retry delay; doubles per attempt (Stripe backs off over days; tests want milliseconds). */
  retryBaseMs: number;
  maxAttempts: number;
  timeoutMs: number;
  concurrency: number;
}

export interface DeliveryRecord {
  eventId: string;
  type: string;
  account: string | undefined;
  attempt: number;
  status: number | "error";
  at: number;
  duplicate: boolean;
}

interface Delivery {
  event: StoredObject;
  account: string | undefined;
  attempt: number;
  duplicate: boolean;
}

/** Stripe's scheme: `t=<unix>,v1=<hex HMAC-SHA256 of "t.payload" keyed with the endpoint secret>`. */
export function signStripePayload(
  payload: string,
  secret: string,
  timestamp = Math.floor(Date.now() / 1000),
): string {
  const signature = createHmac("sha256", secret).update(`${timestamp}.${payload}`, "utf8").digest("hex");
  return `t=${timestamp},v1=${signature}`;
}

/**
 * Sends events to the configured URL, signed as Stripe signs them, retrying non-2xx answers with
 * exponential back-off. Injected faults can duplicate deliveries or reverse a batch's order.
 */
export class WebhookDispatcher {
  private queue: Delivery[] = [];
  private inFlight = 0;
  private readonly retryTimers = new Map<NodeJS.Timeout, Delivery>();
  private readonly waiters: Array<() => void> = [];
  private pumpScheduled = false;
  private closed = false;
  readonly deliveries: DeliveryRecord[] = [];

  constructor(
    public config: WebhookConfig,
    private readonly faults: () => WebhookFaults,
  ) {}

  get enabled(): boolean {
    return Boolean(this.config.url);
  }

  enqueue(event: StoredObject, account: string | undefined): void {
    if (!this.enabled || this.closed) return;
    this.queue.push({ event, account, attempt: 1, duplicate: false });
    const duplicateRate = this.faults().duplicateRate ?? 0;
    if (duplicateRate > 0 && Math.random() < duplicateRate)
      this.queue.push({ event, account, attempt: 1, duplicate: true });
    if (this.config.autoDeliver) this.schedulePump();
  }

  get pendingCount(): number {
    return this.queue.length + this.inFlight + this.retryTimers.size;
  }

  /** Starts sending what is queued (after auto delivery is switched on). */
  resume(): void {
    if (this.queue.length > 0) this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // Batch what one tick produced, so reordering has something to reorder.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.faults().reorder && this.queue.length > 1 && this.inFlight === 0) this.queue.reverse();
    while (this.inFlight < this.config.concurrency && this.queue.length > 0) {
      const delivery = this.queue.shift();
      if (delivery) void this.send(delivery);
    }
    this.notifyIfIdle();
  }

  private async send(delivery: Delivery): Promise<void> {
    this.inFlight++;
    const url = this.config.url;
    let status: number | "error" = "error";
    try {
      if (!url) return;
      // Stripe sends the event pretty-printed; the signature covers exactly these bytes.
      const payload = JSON.stringify(delivery.event, null, 2);
      const secret =
        delivery.account && this.config.connectSecret ? this.config.connectSecret : this.config.secret;
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json; charset=utf-8",
          "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
          "Stripe-Signature": signStripePayload(payload, secret),
        },
        body: payload,
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
      status = response.status;
      await response.arrayBuffer().catch(() => undefined);
    } catch {
      status = "error";
    } finally {
      this.inFlight--;
      this.deliveries.push({
        eventId: delivery.event.id,
        type: String(delivery.event.type),
        account: delivery.account,
        attempt: delivery.attempt,
        status,
        at: Date.now(),
        duplicate: delivery.duplicate,
      });
      const ok = typeof status === "number" && status >= 200 && status < 300;
      if (ok && !delivery.duplicate)
        delivery.event.pending_webhooks = Math.max(0, Number(delivery.event.pending_webhooks) - 1);
      if (!ok && !this.closed && delivery.attempt < this.config.maxAttempts) this.scheduleRetry(delivery);
      if (this.config.autoDeliver || this.queue.length > 0) this.pump();
      this.notifyIfIdle();
    }
  }

  private scheduleRetry(delivery: Delivery): void {
    const delay = this.config.retryBaseMs * 2 ** (delivery.attempt - 1);
    const retry = { ...delivery, attempt: delivery.attempt + 1 };
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.queue.push(retry);
      this.pump();
    }, delay);
    this.retryTimers.set(timer, retry);
  }

  /** Sends everything queued (and waiting retries, now) and resolves when nothing is left in flight. */
  async deliverPending(): Promise<void> {
    for (const [timer, retry] of this.retryTimers) {
      clearTimeout(timer);
      this.queue.push(retry);
    }
    this.retryTimers.clear();
    this.pump();
    if (this.queue.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private notifyIfIdle(): void {
    if (this.queue.length > 0 || this.inFlight > 0) return;
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  close(): void {
    this.closed = true;
    for (const timer of this.retryTimers.keys()) clearTimeout(timer);
    this.retryTimers.clear();
    this.queue = [];
    this.notifyIfIdle();
  }
}

export interface SuppressedEvent {
  eventId: string;
  type: string;
  account: string | undefined;
}

/**
 * A missed-webhook drill: the next N events of a type are never delivered (no attempt at all), yet
 * stay in the Events API, so a receiver can only find them by listing events.
 */
export class WebhookSuppressions {
  private readonly remaining = new Map<string, number>();
  readonly suppressed: SuppressedEvent[] = [];

  add(type: string, count: number): void {
    this.remaining.set(type, (this.remaining.get(type) ?? 0) + count);
  }

  /** True when this event is one of the suppressed; counts it off. */
  take(event: StoredObject, account: string | undefined): boolean {
    const type = String(event.type);
    const left = this.remaining.get(type) ?? 0;
    if (left <= 0) return false;
    if (left === 1) this.remaining.delete(type);
    else this.remaining.set(type, left - 1);
    this.suppressed.push({ eventId: event.id, type, account });
    return true;
  }

  pending(): Record<string, number> {
    return Object.fromEntries(this.remaining);
  }

  clear(): void {
    this.remaining.clear();
  }
}
