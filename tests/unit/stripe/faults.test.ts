import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { classifyStripeError, StripeGatewayError } from "../../../lib/stripe/errors";
import { createOnboardedPayee, startTestStripe, type TestStripe } from "../../support/stripe";

let t: TestStripe;
beforeAll(async () => {
  t = await startTestStripe({ maxRetries: 5 });
});
afterEach(() => t.simulator.setFaults({}));
afterAll(async () => {
  await t.close();
});

describe("fault injection seen through the SDK", () => {
  it("429 bursts carry Stripe-Should-Retry, and the SDK retries them to success", async () => {
    t.simulator.setFaults({ endpoints: { "POST /v1/customers": { rateLimitPerSecond: 2 } } });
    const since = t.simulator.requests().at(-1)?.seq ?? 0;
    const customers = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        t.gateway.createCustomer({ email: `c${i}@example.com`, name: `C${i}`, idempotencyKey: `burst-${i}` }),
      ),
    );
    expect(new Set(customers.map((c) => c.id)).size).toBe(5);
    const log = t.simulator.requests(since);
    expect(log.some((entry) => entry.status === 429 && entry.fault === "rate_limited")).toBe(true);
    expect(log.filter((entry) => entry.status === 200)).toHaveLength(5);
  });

  it("a 429 without retries left is classified retryable rate_limited", async () => {
    const noRetry = await startTestStripe({
      maxRetries: 0,
      faults: { rateLimits: { globalPerSecond: 1 } },
    });
    try {
      const noRetries = noRetry.gateway.withPolicy({ maxRetries: 0 });
      await noRetries.retrieveBalance();
      const error = await noRetries.retrieveBalance().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StripeGatewayError);
      expect((error as StripeGatewayError).classified).toMatchObject({
        kind: "rate_limited",
        retryable: true,
        statusCode: 429,
        code: "rate_limit",
      });
    } finally {
      await noRetry.close();
    }
  });

  it("500s are retried by the gateway with the same idempotency key: one object", async () => {
    t.simulator.setFaults({ endpoints: { "POST /v1/customers": { errorCount: 2 } } });
    const since = t.simulator.requests().at(-1)?.seq ?? 0;
    const customer = await t.gateway.createCustomer({
      email: "five@example.com",
      name: "Five",
      idempotencyKey: "after-500",
    });
    const log = t.simulator.requests(since);
    expect(log.map((entry) => entry.status)).toEqual([500, 500, 200]);
    expect(new Set(log.map((entry) => entry.idempotencyKey))).toEqual(new Set(["after-500"]));
    expect(log.at(-1)?.createdIds).toEqual([customer.id]);
  });

  it("a connection dropped after the work is done is retried and replayed, not repeated", async () => {
    const payee = await createOnboardedPayee(t, "fault-drop");
    t.simulator.setFaults({ endpoints: { "POST /v1/transfers": { dropCount: 1, dropPhase: "after" } } });
    const since = t.simulator.requests().at(-1)?.seq ?? 0;
    const transfer = await t.gateway.createTransfer({
      amount: 300,
      currency: "usd",
      destination: payee.id,
      idempotencyKey: "drop-after",
    });
    const log = t.simulator.requests(since).filter((entry) => entry.endpoint === "POST /v1/transfers");
    expect(log.map((entry) => [entry.fault ?? null, entry.replayed])).toEqual([
      ["drop_after", false],
      [null, true],
    ]);
    expect((await t.gateway.retrieveBalance(payee.id)).available[0]?.amount).toBe(300);
    expect(transfer.amount).toBe(300);
  });

  it("a final error is classified final and not retried", async () => {
    const since = t.simulator.requests().at(-1)?.seq ?? 0;
    const error = await t.gateway
      .createTransfer({ amount: 100, currency: "usd", destination: "acct_nobody", idempotencyKey: "final" })
      .catch((e: unknown) => e);
    expect(classifyStripeError(error)).toMatchObject({
      retryable: false,
      kind: "invalid_request",
      code: "resource_missing",
      statusCode: 404,
    });
    expect(t.simulator.requests(since)).toHaveLength(1);
  });

  it("lock timeouts are 429 lock_timeout, retried by the SDK", async () => {
    t.simulator.setFaults({ all: { lockTimeoutCount: 1 } });
    const balance = await t.gateway.retrieveBalance();
    expect(balance.object).toBe("balance");
    expect(t.simulator.requests().at(-2)?.errorCode).toBe("lock_timeout");
  });

  it("adds latency, fixed or in a range", async () => {
    t.simulator.setFaults({ all: { latencyMs: { min: 60, max: 80 } } });
    const started = Date.now();
    await t.gateway.retrieveBalance();
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it("live limits: 100/s overall, 25/s per endpoint, 15/s payouts, 1,000/s meter events", async () => {
    const live = await startTestStripe({ maxRetries: 0, liveLimits: true });
    try {
      expect(live.simulator.getFaults().rateLimits).toEqual({
        globalPerSecond: 100,
        perEndpointPerSecond: 25,
        payoutsPerSecond: 15,
        meterEventsPerSecond: 1000,
      });
      const started = Date.now();
      const results = await Promise.allSettled(
        Array.from({ length: 80 }, () => live.stripe.balance.retrieve()),
      );
      const seconds = (Date.now() - started) / 1000;
      const limited = results.filter((r) => r.status === "rejected").length;
      // 25 per second on one endpoint: 80 at once are refused in part, and no more got through than
      // the seconds they took allow (on a loaded machine they may straddle a few second boundaries).
      expect(limited).toBeGreaterThanOrEqual(1);
      expect(80 - limited).toBeLessThanOrEqual(25 * (Math.floor(seconds) + 2));
    } finally {
      await live.close();
    }
  });
});
