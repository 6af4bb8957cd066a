import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutOfTime } from "@/lib/stripe/call";
import { createStripeClient } from "@/lib/stripe/client";
import { StripeGatewayError } from "@/lib/stripe/errors";
import { createStripeGateway } from "@/lib/stripe/gateway";
import { StripeRateLimiter } from "@/lib/stripe/limiter";
import { type StripeSimulator, startStripeSimulator } from "@/lib/stripe/simulator";

// One retry layer: the SDK's own retries are off, and the gateway's call path retries a retryable
// failure `maxRetries` times, each try paced by the limiter and sent with the same idempotency key.
// So a call is exactly 1 + maxRetries HTTP requests at most, never the SDK's tries under ours.

let simulator: StripeSimulator;
let account: string;

beforeAll(async () => {
  simulator = await startStripeSimulator({ port: 0 });
  const setup = createStripeGateway(createStripeClient({ secretKey: "sk_test_x", apiBaseUrl: simulator.url }));
  account = (await setup.createExpressAccount({ email: "c@example.com", country: "US", payeeId: "p-call", idempotencyKey: "acct-call" })).id;
  simulator.onboardAccount(account);
});
afterAll(() => simulator.close());

function gateway(maxRetries: number, deadline?: number) {
  const limiter = new StripeRateLimiter({ overall: 100, perEndpoint: 25, payouts: 15 });
  const stripe = createStripeClient({ secretKey: "sk_test_x", apiBaseUrl: simulator.url });
  return { limiter, stripe, gateway: createStripeGateway(stripe, { limiter, maxRetries, deadline }) };
}

const transferRequests = (key: string) =>
  simulator.requests(0, 100_000).filter((r) => r.endpoint === "POST /v1/transfers" && r.idempotencyKey === key);

const transfer = (g: ReturnType<typeof gateway>["gateway"], key: string) =>
  g.createTransfer({ amount: 100, currency: "usd", destination: account, idempotencyKey: key });

describe("one Stripe call path", () => {
  it("the SDK's own retries are off", () => {
    expect(gateway(3).stripe.getMaxNetworkRetries()).toBe(0);
  });

  it("500s: 1 + maxRetries requests, then a retryable StripeGatewayError; each request paced", async () => {
    simulator.setFaults({ endpoints: { "POST /v1/transfers": { errorCount: 10 } } });
    const g = gateway(2);
    const error = await transfer(g.gateway, "call-500").catch((e) => e);
    expect(error).toBeInstanceOf(StripeGatewayError);
    expect(error.retryable).toBe(true);
    expect(transferRequests("call-500").length).toBe(3);
    expect(g.limiter.counts["transfers.create"]).toBe(3);
    simulator.setFaults({});
  });

  it("429 lock timeouts and 500s then success: every try counted, one transfer, one idempotency key", async () => {
    simulator.setFaults({ endpoints: { "POST /v1/transfers": { lockTimeoutCount: 2 } } });
    const g = gateway(5);
    const retried: string[] = [];
    const made = await g.gateway.withPolicy({ onRetry: (f) => retried.push(f.kind) }).createTransfer({
      amount: 100,
      currency: "usd",
      destination: account,
      idempotencyKey: "call-429",
    });
    simulator.setFaults({ endpoints: { "POST /v1/transfers": { errorCount: 1 } } });
    const again = await transfer(g.gateway, "call-429-b");
    const requests = transferRequests("call-429");
    expect(requests.map((r) => r.status)).toEqual([429, 429, 200]);
    expect(retried).toEqual(["lock_timeout", "lock_timeout"]);
    expect(requests[2]!.createdIds).toContain(made.id);
    expect(transferRequests("call-429-b").map((r) => r.status)).toEqual([500, 200]);
    expect(again.id).not.toBe(made.id);
    simulator.setFaults({});
  });

  it("a final error is not retried", async () => {
    const g = gateway(5);
    const error = await g.gateway
      .createTransfer({ amount: 100, currency: "usd", destination: "acct_nobody", idempotencyKey: "call-final" })
      .catch((e) => e);
    expect(error).toBeInstanceOf(StripeGatewayError);
    expect(error.retryable).toBe(false);
    expect(transferRequests("call-final").length).toBe(1);
  });

  it("past the deadline no request starts: OutOfTime says whether any went out", async () => {
    simulator.setFaults({ endpoints: { "POST /v1/transfers": { errorCount: 10 } } });
    const before = await transfer(gateway(5, Date.now() - 1).gateway, "call-late").catch((e) => e);
    expect(before).toBeInstanceOf(OutOfTime);
    expect(before.requestsMade).toBe(0);
    expect(transferRequests("call-late").length).toBe(0);
    // A deadline the first try fits in but the back-off does not: one request went out.
    const during = await transfer(gateway(5, Date.now() + 100).gateway, "call-during").catch((e) => e);
    expect(during).toBeInstanceOf(OutOfTime);
    expect(during.requestsMade).toBeGreaterThanOrEqual(1);
    expect(transferRequests("call-during").length).toBe(during.requestsMade);
    simulator.setFaults({});
  });
});
