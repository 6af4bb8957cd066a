import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnv } from "@/lib/env";
import { unbalancedTransactions } from "@/lib/ledger";
import { listOpenBreaks } from "@/lib/reconciliation/breaks";
import { reconcileNow } from "@/lib/reconciliation/pass";
import { createTestDb, type TestDb } from "../../support/db";
import { StripeFlow } from "../../support/stripe-flow";
import { startTestStripe, type TestStripe } from "../../support/stripe";

// Two refunds of one $50.00 destination charge ($5.00 application fee, reverse_transfer), partial
// then the rest and the rest then partial, with their webhooks arriving in the order Stripe made them
// and the other way round. Each refund posts once, in Stripe's numbers, and a reconciliation pass
// finds the ledger's Stripe references equal to Stripe's balance transactions.

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

const cases = [
  { label: "partial-then-rest", amounts: [1_000, 4_000], lateFirst: false },
  { label: "rest-then-partial", amounts: [4_000, 1_000], lateFirst: false },
  { label: "partial-then-rest-late", amounts: [1_000, 4_000], lateFirst: true },
  { label: "rest-then-partial-late", amounts: [4_000, 1_000], lateFirst: true },
] as const;

describe("two refunds of one charge", () => {
  for (const c of cases) {
    it(`${c.label}: each refund posts once; the ledger agrees with Stripe`, async () => {
      const { payeeId, account } = await flow.payee(c.label);
      const pi = ts.simulator.createDestinationCharge({
        destination: account,
        amount: 5_000,
        applicationFeeAmount: 500,
      });
      await flow.deliverNew();
      const start = await flow.ledgerOnConnected(payeeId);
      expect(start).toBe(4_500);
      const [first, second] = c.amounts;
      await ts.gateway.createRefund({
        paymentIntent: pi.id as string,
        amount: first,
        reverseTransfer: true,
        idempotencyKey: `${c.label}-1`,
      });
      // the first refund's webhooks are held back (arrive after the second's) when lateFirst
      await flow.deliverNew(c.lateFirst ? { skip: () => true } : {});
      await ts.gateway.createRefund({
        paymentIntent: pi.id as string,
        amount: second,
        reverseTransfer: true,
        idempotencyKey: `${c.label}-2`,
      });
      await flow.deliverNew();
      await flow.deliverHeld();
      // refunded in full with reverse_transfer and the fee kept: Stripe reversed the whole $50.00
      // transfer, so the payee owes the $5.00 fee there
      expect(await flow.ledgerOnConnected(payeeId)).toBe(flow.stripeBalance(account));
      expect((await flow.ledgerOnConnected(payeeId)) - start).toBe(-5_000);
      expect(await unbalancedTransactions(t.db)).toEqual([]);
      await reconcileNow(t.db, ts.gateway, loadEnv({ RECON_GRACE_SECONDS: "0" }));
      expect(await listOpenBreaks(t.db)).toEqual([]);
    });
  }
});
