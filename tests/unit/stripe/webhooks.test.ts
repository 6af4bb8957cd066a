import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createOnboardedPayee, startTestStripe, type TestStripe } from "../../support/stripe";

const PLATFORM_SECRET = "whsec_platform_test_secret";
const CONNECT_SECRET = "whsec_connect_test_secret";

interface Received {
  body: string;
  signature: string;
}

let t: TestStripe;
let receiver: Server;
let received: Received[] = [];
/** Status codes to answer with, in order, to deliveries whose body contains `answersFor`; 200 otherwise. */
let answers: number[] = [];
let answersFor = "";

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({
        body: Buffer.concat(chunks).toString("utf8"),
        signature: String(req.headers["stripe-signature"]),
      });
      const body = Buffer.concat(chunks).toString("utf8");
      // A late delivery left over from an earlier test must not use up this test's scripted answers.
      res.writeHead(answersFor && body.includes(answersFor) ? (answers.shift() ?? 200) : 200);
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/stripe`;
  t = await startTestStripe({
    webhookUrl: url,
    webhookSecret: PLATFORM_SECRET,
    connectWebhookSecret: CONNECT_SECRET,
    autoDeliverWebhooks: false,
  });
});
beforeEach(async () => {
  await t.simulator.deliverPendingWebhooks();
  received = [];
  answers = [];
  answersFor = "";
  t.simulator.setFaults({});
});
afterAll(async () => {
  await t.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

function verify(delivery: Received, secret: string): Stripe.Event {
  return t.stripe.webhooks.constructEvent(delivery.body, delivery.signature, secret);
}

describe("webhooks", () => {
  it("signs platform events with the platform secret, verified by stripe.webhooks.constructEvent", async () => {
    await t.gateway.createCustomer({ email: "hook@example.com", name: "Hook", idempotencyKey: "hook-cus" });
    await t.simulator.deliverPendingWebhooks();
    const delivery = received.find((r) => r.body.includes('"customer.created"'));
    if (!delivery) throw new Error("customer.created not delivered");
    expect(delivery.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const event = verify(delivery, PLATFORM_SECRET);
    expect(event).toMatchObject({ object: "event", type: "customer.created", livemode: false });
    expect(event.account).toBeUndefined();
    expect(event.request).toMatchObject({ idempotency_key: "hook-cus" });
    expect(() => verify(delivery, CONNECT_SECRET)).toThrow();
  });

  it("sends connected-account events with `account`, signed with the connect secret (payout.paid)", async () => {
    const payee = await createOnboardedPayee(t, "hook-payee");
    await t.gateway.createTransfer({
      amount: 5_000,
      currency: "usd",
      destination: payee.id,
      idempotencyKey: "hook-fund",
    });
    const payout = await t.gateway.createPayout({
      stripeAccount: payee.id,
      amount: 5_000,
      currency: "usd",
      idempotencyKey: "hook-po",
    });
    t.simulator.advanceClock(2 * 86_400);
    await t.simulator.deliverPendingWebhooks();
    const paid = received.find((r) => r.body.includes('"payout.paid"'));
    if (!paid) throw new Error("payout.paid not delivered");
    const event = verify(paid, CONNECT_SECRET);
    expect(event.account).toBe(payee.id);
    expect(event.data.object).toMatchObject({ id: payout.id, object: "payout", status: "paid" });
    const updated = received.find((r) => r.body.includes('"account.updated"'));
    expect(updated && verify(updated, CONNECT_SECRET).account).toBe(payee.id);
  });

  it("retries with back-off until the endpoint answers 2xx", async () => {
    answers = [500, 503];
    answersFor = "retry@example.com";
    await t.gateway.createCustomer({
      email: "retry@example.com",
      name: "Retry",
      idempotencyKey: "hook-retry",
    });
    t.simulator.configureWebhooks({ autoDeliver: true });
    try {
      const ours = () => received.filter((r) => r.body.includes("retry@example.com")).length;
      await expect.poll(ours, { timeout: 10_000, interval: 20 }).toBe(3);
    } finally {
      t.simulator.configureWebhooks({ autoDeliver: false });
    }
    const oursReceived = received.filter((r) => r.body.includes("retry@example.com"));
    const eventIds = new Set(oursReceived.map((r) => verify(r, PLATFORM_SECRET).id));
    expect(eventIds.size).toBe(1);
    // The simulator records an attempt once the endpoint's answer is in, just after the endpoint saw it.
    const attempts = () => t.simulator.webhookDeliveries().filter((d) => eventIds.has(d.eventId)).map((d) => [d.attempt, d.status]);
    await expect.poll(() => attempts().length, { timeout: 5_000, interval: 20 }).toBe(3);
    expect(attempts()).toEqual([
      [1, 500],
      [2, 503],
      [3, 200],
    ]);
  });

  it("duplicates and reorders deliveries when told to", async () => {
    t.simulator.setFaults({ webhooks: { duplicateRate: 1, reorder: true } });
    const first = await t.gateway.createCustomer({
      email: "d1@example.com",
      name: "D1",
      idempotencyKey: "hook-dup-1",
    });
    const second = await t.gateway.createCustomer({
      email: "d2@example.com",
      name: "D2",
      idempotencyKey: "hook-dup-2",
    });
    await t.simulator.deliverPendingWebhooks();
    const customerIds = received.map((r) => (verify(r, PLATFORM_SECRET).data.object as { id: string }).id);
    expect(customerIds).toHaveLength(4);
    expect(customerIds.filter((id) => id === first.id)).toHaveLength(2);
    expect(customerIds[0]).toBe(second.id);
  });
});
