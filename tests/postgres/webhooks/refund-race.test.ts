import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unbalancedTransactions } from "../../../lib/ledger";
import { createTestDb, type TestDb } from "../../support/db";
import { StripeFlow } from "../../support/stripe-flow";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { deliver } from "../../integration/webhooks/helpers";

// Two refunds of one charge whose webhooks arrive at the same moment on two connections: both post,
// each once, and the ledger still agrees with Stripe (the charge's row lock orders them).

let t: TestDb;
let ts: TestStripe;
let flow: StripeFlow;

beforeAll(async () => {
  t = await createTestDb();
  ts = await startTestStripe();
  flow = new StripeFlow(t.db, ts);
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

describe("concurrent refunds of one charge (real Postgres)", () => {
  it("two refunds delivered at once each post once; the ledger agrees with Stripe", async () => {
    const { payeeId, account } = await flow.payee("refund-race");
    const pi = ts.simulator.createDestinationCharge({
      destination: account,
      amount: 5_000,
      applicationFeeAmount: 500,
    });
    await flow.deliverNew();
    expect(await flow.ledgerOnConnected(payeeId)).toBe(4_500);
    const before = (await ts.stripe.events.list({ limit: 100 })).data.map((e) => e.id);
    await ts.gateway.createRefund({
      paymentIntent: pi.id as string,
      amount: 1_500,
      reverseTransfer: true,
      idempotencyKey: "race-1",
    });
    await ts.gateway.createRefund({
      paymentIntent: pi.id as string,
      amount: 2_000,
      reverseTransfer: true,
      idempotencyKey: "race-2",
    });
    const fresh = (await ts.stripe.events.list({ limit: 100 })).data
      .filter((e) => !before.includes(e.id))
      .reverse();
    const refundEvents = (id: string) =>
      fresh.filter(
        (e) =>
          (e.data.object as { id?: string }).id === id ||
          ((e.data.object as Stripe.Charge).refunds?.data ?? []).some((r) => r.id === id),
      );
    const refunds = fresh
      .filter((e) => e.type === "refund.created")
      .map((e) => (e.data.object as Stripe.Refund).id);
    expect(refunds.length).toBe(2);
    const a = t.connect(2);
    const b = t.connect(2);
    try {
      const results = await Promise.all([
        (async () => {
          const out: string[] = [];
          for (const e of refundEvents(refunds[0]!))
            out.push((await deliver(a.db, e, { gateway: () => ts.gateway })).status);
          return out;
        })(),
        (async () => {
          const out: string[] = [];
          for (const e of refundEvents(refunds[1]!))
            out.push((await deliver(b.db, e, { gateway: () => ts.gateway })).status);
          return out;
        })(),
      ]);
      expect(results.flat().filter((s) => s === "failed")).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
    // both refunds posted by the racing deliveries alone, each with its transfer reversal
    expect((await flow.ledgerOnConnected(payeeId)) - 4_500).toBe(-3_500);
    expect(await flow.ledgerOnConnected(payeeId)).toBe(flow.stripeBalance(account));
    // the rest of what Stripe sent (a redelivery of the same events among it) changes nothing
    await flow.deliverNew();
    expect(await flow.ledgerOnConnected(payeeId)).toBe(flow.stripeBalance(account));
    expect((await flow.ledgerOnConnected(payeeId)) - 4_500).toBe(-3_500);
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });
});
