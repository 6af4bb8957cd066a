import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnv } from "@/lib/env";
import { unbalancedTransactions } from "@/lib/ledger";
import { listOpenBreaks } from "@/lib/reconciliation/breaks";
import { reconcileNow } from "@/lib/reconciliation/pass";
import { createTestDb, type TestDb } from "../../support/db";
import { StripeFlow } from "../../support/stripe-flow";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { deliver, handlerEnv } from "./helpers";

// The ledger posts what Stripe moved, where Stripe moved it (issue 13's table). A $50.00 destination
// charge with a $5.00 application fee, refunded $40.00, in each combination of reverse_transfer and
// refund_application_fee, and the same for a transfer_data[amount] charge; disputes won and lost.
// Every case ends with the payee's money on the connected account in the ledger equal to the
// connected account's balance at Stripe.

let t: TestDb;
let ts: TestStripe;
let flow: StripeFlow;
let noRecovery: StripeFlow;

beforeAll(async () => {
  t = await createTestDb();
  ts = await startTestStripe();
  flow = new StripeFlow(t.db, ts);
  noRecovery = new StripeFlow(t.db, ts, { ...handlerEnv, PAYEE_RECOVERY_POLICY: "none" });
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

type Model = { applicationFeeAmount: number } | { transferAmount: number };

async function chargedPayee(label: string, model: Model, f: StripeFlow = flow) {
  const { payeeId, account } = await f.payee(label);
  const pi = ts.simulator.createDestinationCharge({ destination: account, amount: 5_000, ...model });
  await f.deliverNew();
  const start = {
    onConnected: await f.ledgerOnConnected(payeeId),
    fees: await f.platform("fees"),
    losses: await f.platform("losses"),
    stripeFees: await f.platform("stripe_fees"),
  };
  return { payeeId, account, pi: pi.id as string, start };
}

async function refund(
  f: StripeFlow,
  pi: string,
  amount: number,
  options: { reverseTransfer?: boolean; refundApplicationFee?: boolean },
  key: string,
) {
  await ts.gateway.createRefund({ paymentIntent: pi, amount, ...options, idempotencyKey: key });
  return f.deliverNew();
}

async function expectAgreement(f: StripeFlow, payeeId: string, account: string) {
  expect(await f.ledgerOnConnected(payeeId)).toBe(f.stripeBalance(account));
  expect(await unbalancedTransactions(t.db)).toEqual([]);
}

describe("application_fee_amount: $50.00 charge, $5.00 fee, $40.00 refunded", () => {
  it("credits $45.00 on the connected account and $5.00 of fee revenue", async () => {
    const c = await chargedPayee("af-credit", { applicationFeeAmount: 500 });
    expect(c.start.onConnected).toBe(4_500);
    await expectAgreement(flow, c.payeeId, c.account);
  });

  it("reverse_transfer only: the payee -$40.00, the platform keeps its $5.00 fee", async () => {
    const c = await chargedPayee("af-reverse", { applicationFeeAmount: 500 });
    await refund(flow, c.pi, 4_000, { reverseTransfer: true }, "af-reverse-1");
    expect((await flow.ledgerOnConnected(c.payeeId)) - c.start.onConnected).toBe(-4_000);
    expect((await flow.platform("fees")) - c.start.fees).toBe(0);
    expect((await flow.platform("losses")) - c.start.losses).toBe(0);
    await expectAgreement(flow, c.payeeId, c.account);
  });

  it("with refund_application_fee too: the payee -$36.00, fee revenue -$4.00", async () => {
    const c = await chargedPayee("af-both", { applicationFeeAmount: 500 });
    await refund(flow, c.pi, 4_000, { reverseTransfer: true, refundApplicationFee: true }, "af-both-1");
    expect((await flow.ledgerOnConnected(c.payeeId)) - c.start.onConnected).toBe(-3_600);
    expect((await flow.platform("fees")) - c.start.fees).toBe(-400);
    expect((await flow.platform("losses")) - c.start.losses).toBe(0);
    await expectAgreement(flow, c.payeeId, c.account);
  });

  it("neither, and no recovery: the payee keeps the money at Stripe, the platform bears $40.00", async () => {
    const c = await chargedPayee("af-neither", { applicationFeeAmount: 500 }, noRecovery);
    await refund(noRecovery, c.pi, 4_000, {}, "af-neither-1");
    expect((await noRecovery.ledgerOnConnected(c.payeeId)) - c.start.onConnected).toBe(0);
    expect((await noRecovery.platform("losses")) - c.start.losses).toBe(-4_000);
    await expectAgreement(noRecovery, c.payeeId, c.account);
  });

  it("neither, with the recovery policy: a transfer reversal Stripe records takes $40.00 back from the payee", async () => {
    const c = await chargedPayee("af-recover", { applicationFeeAmount: 500 });
    await refund(flow, c.pi, 4_000, {}, "af-recover-1");
    await flow.deliverNew(); // the reversal's own transfer.reversed: already posted, nothing twice
    expect((await flow.ledgerOnConnected(c.payeeId)) - c.start.onConnected).toBe(-4_000);
    expect((await flow.platform("losses")) - c.start.losses).toBe(0);
    await expectAgreement(flow, c.payeeId, c.account);
  });

  it("partial then full, and full then partial: each refund posts once, in Stripe's numbers", async () => {
    for (const [label, parts] of [
      ["af-order-a", [1_000, 4_000]],
      ["af-order-b", [4_000, 1_000]],
    ] as const) {
      const c = await chargedPayee(label, { applicationFeeAmount: 500 });
      for (const [i, amount] of parts.entries()) {
        await refund(
          flow,
          c.pi,
          amount,
          { reverseTransfer: true, refundApplicationFee: true },
          `${label}-${i}`,
        );
      }
      // refunded in full: the whole transfer and the whole fee came back
      expect((await flow.ledgerOnConnected(c.payeeId)) - c.start.onConnected).toBe(-4_500);
      expect((await flow.platform("fees")) - c.start.fees).toBe(-500);
      await expectAgreement(flow, c.payeeId, c.account);
    }
  });
});

describe("transfer_data[amount]: $50.00 charge, $45.00 transferred, $40.00 refunded", () => {
  it("credits $45.00 on the connected account and keeps $5.00", async () => {
    const c = await chargedPayee("ta-credit", { transferAmount: 4_500 });
    expect(c.start.onConnected).toBe(4_500);
    await expectAgreement(flow, c.payeeId, c.account);
  });

  it("reverse_transfer: the transfer reversed in proportion (-$36.00), the platform bears $4.00", async () => {
    const c = await chargedPayee("ta-reverse", { transferAmount: 4_500 });
    await refund(flow, c.pi, 4_000, { reverseTransfer: true }, "ta-reverse-1");
    expect((await flow.ledgerOnConnected(c.payeeId)) - c.start.onConnected).toBe(-3_600);
    expect((await flow.platform("losses")) - c.start.losses).toBe(-400);
    await expectAgreement(flow, c.payeeId, c.account);
  });

  it("no reverse_transfer, no recovery: the platform bears $40.00", async () => {
    const c = await chargedPayee("ta-neither", { transferAmount: 4_500 }, noRecovery);
    await refund(noRecovery, c.pi, 4_000, {}, "ta-neither-1");
    expect((await noRecovery.ledgerOnConnected(c.payeeId)) - c.start.onConnected).toBe(0);
    expect((await noRecovery.platform("losses")) - c.start.losses).toBe(-4_000);
    await expectAgreement(noRecovery, c.payeeId, c.account);
  });
});

describe("disputes of a destination charge", () => {
  it("funds withdrawn: the platform bears the amount and the $15.00 fee; won: the amount comes back", async () => {
    const c = await chargedPayee("dp-won", { applicationFeeAmount: 500 });
    const charge = (await ts.gateway.retrievePaymentIntent(c.pi)).latest_charge as string;
    const dispute = ts.simulator.createDispute(charge, { amount: 5_000 });
    await flow.deliverNew();
    expect((await flow.platform("losses")) - c.start.losses).toBe(-5_000);
    expect((await flow.platform("stripe_fees")) - c.start.stripeFees).toBe(-1_500);
    // the payee's money stays at Stripe, held while the dispute is open
    await expectAgreement(flow, c.payeeId, c.account);
    ts.simulator.resolveDispute(dispute.id as string, "won");
    await flow.deliverNew();
    expect((await flow.platform("losses")) - c.start.losses).toBe(0);
    expect((await flow.platform("stripe_fees")) - c.start.stripeFees).toBe(-1_500);
    await expectAgreement(flow, c.payeeId, c.account);
  });

  it("lost: the payee's share is taken back by a transfer reversal, the platform keeps the fee", async () => {
    const c = await chargedPayee("dp-lost", { applicationFeeAmount: 500 });
    const charge = (await ts.gateway.retrievePaymentIntent(c.pi)).latest_charge as string;
    const dispute = ts.simulator.createDispute(charge, { amount: 5_000 });
    await flow.deliverNew();
    ts.simulator.resolveDispute(dispute.id as string, "lost");
    await flow.deliverNew();
    await flow.deliverNew();
    // the transfer carried the whole charge: the whole $50.00 is recovered from the payee
    expect((await flow.ledgerOnConnected(c.payeeId)) - c.start.onConnected).toBe(-5_000);
    expect((await flow.platform("losses")) - c.start.losses).toBe(0);
    expect((await flow.platform("stripe_fees")) - c.start.stripeFees).toBe(-1_500);
    await expectAgreement(flow, c.payeeId, c.account);
  });
});

describe("a lost dispute after a refund that reversed part of the transfer", () => {
  it("the recovery takes back only what the transfer still carries; the rest stays the platform's loss", async () => {
    const c = await chargedPayee("dp-after-refund", { applicationFeeAmount: 500 });
    await refund(flow, c.pi, 3_000, { reverseTransfer: true }, "dp-after-refund-r1");
    const charge = (await ts.gateway.retrievePaymentIntent(c.pi)).latest_charge as string;
    const dispute = ts.simulator.createDispute(charge, { amount: 5_000 });
    await flow.deliverNew();
    ts.simulator.resolveDispute(dispute.id as string, "lost");
    const outcomes = [...(await flow.deliverNew()), ...(await flow.deliverNew())];
    expect(outcomes.filter((o) => o.endsWith(":failed"))).toEqual([]);
    // $30.00 went back with the refund, the recovery took the $20.00 left on the transfer: no more
    const transfer = (await ts.stripe.charges.retrieve(charge)).transfer as string;
    const reversals = await ts.stripe.transfers.listReversals(transfer);
    expect(reversals.data.map((r) => r.amount).sort((a, b) => a - b)).toEqual([2_000, 3_000]);
    expect((await flow.ledgerOnConnected(c.payeeId)) - c.start.onConnected).toBe(-5_000);
    await expectAgreement(flow, c.payeeId, c.account);
  });
});

describe("order", () => {
  it("a refund whose earning has not arrived yet waits, then posts once the earning is in", async () => {
    const { payeeId, account } = await flow.payee("early-refund");
    const pi = ts.simulator.createDestinationCharge({
      destination: account,
      amount: 5_000,
      applicationFeeAmount: 500,
    });
    await ts.gateway.createRefund({
      paymentIntent: pi.id as string,
      amount: 1_000,
      reverseTransfer: true,
      idempotencyKey: "early-1",
    });
    // Stripe does not keep order: the refund's events come before the charge's.
    const first = await flow.deliverNew({ skip: (e) => e.type === "payment_intent.succeeded" });
    expect(first).toContain("charge.refunded:pending");
    const late = await ts.stripe.events.list({ type: "payment_intent.succeeded", limit: 1 });
    await deliver(t.db, late.data[0]!, { gateway: () => ts.gateway });
    const { sweepWebhookReplays } = await import("@/lib/webhooks");
    await sweepWebhookReplays(t.db, { env: handlerEnv, gateway: () => ts.gateway, timeBudgetMs: 10_000 });
    expect(await flow.ledgerOnConnected(payeeId)).toBe(3_500);
    await expectAgreement(flow, payeeId, account);
  });
});

describe("reconciliation after every case above", () => {
  it("finds no break: each posting's Stripe references add up to Stripe's balance transactions", async () => {
    await reconcileNow(t.db, ts.gateway, loadEnv({ RECON_GRACE_SECONDS: "0" }));
    expect(await listOpenBreaks(t.db)).toEqual([]);
  });
});
