import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOnboardedPayee, startTestStripe, type TestStripe } from "../../support/stripe";
import { allBalanceTransactions, expectTransactionsToMatchBalance, totalBalance } from "./ledger";

const DAY = 86_400;
let t: TestStripe;
beforeAll(async () => {
  t = await startTestStripe({ platformBalanceCents: 1_000_000 });
});
afterAll(async () => {
  await t.close();
});

async function chargeFor(
  destination: string,
  amount: number,
  fee: number,
  paymentMethod = "pm_card_bypassPending",
) {
  const intent = await t.stripe.paymentIntents.create({
    amount,
    currency: "usd",
    payment_method: paymentMethod,
    confirm: true,
    application_fee_amount: fee,
    transfer_data: { destination },
  });
  return t.stripe.charges.retrieve(String(intent.latest_charge));
}

describe("GET /v1/balance_transactions", () => {
  it("lists a connected account's transactions with Stripe-Account, filtered and paged", async () => {
    const payee = (await createOnboardedPayee(t, "bt-list")).id;
    const opts = { stripeAccount: payee };
    const charges = [];
    for (let i = 0; i < 3; i++) charges.push(await chargeFor(payee, 1_000 * (i + 1), 100));
    await t.stripe.refunds.create({ charge: String(charges[0]?.id), reverse_transfer: true });
    const all = await allBalanceTransactions(t.stripe, payee);
    expect(all.map((bt) => bt.type)).toEqual(["payment_refund", "payment", "payment", "payment"]);

    const payments = await t.stripe.balanceTransactions.list({ type: "payment" }, opts);
    expect(payments.data).toHaveLength(3);
    const page1 = await t.stripe.balanceTransactions.list({ limit: 2 }, opts);
    expect(page1.has_more).toBe(true);
    const page2 = await t.stripe.balanceTransactions.list(
      { limit: 2, starting_after: page1.data.at(-1)?.id },
      opts,
    );
    expect([...page1.data, ...page2.data].map((bt) => bt.id)).toEqual(all.map((bt) => bt.id));
    const first = all.at(-1);
    const bySource = await t.stripe.balanceTransactions.list({ source: String(first?.source) }, opts);
    expect(bySource.data.map((bt) => bt.id)).toEqual([first?.id]);
    expect((await t.stripe.balanceTransactions.list({ currency: "eur" }, opts)).data).toEqual([]);
    const now = t.simulator.now();
    expect((await t.stripe.balanceTransactions.list({ created: { gt: now } }, opts)).data).toEqual([]);
    expect((await t.stripe.balanceTransactions.list({ created: { lte: now } }, opts)).data).toHaveLength(4);
    // The platform does not see the connected account's transactions, nor they the platform's.
    const platformIds = new Set((await allBalanceTransactions(t.stripe)).map((bt) => bt.id));
    expect(all.some((bt) => platformIds.has(bt.id))).toBe(false);
    expect(await t.stripe.balanceTransactions.retrieve(String(first?.id), {}, opts)).toMatchObject({
      id: first?.id,
    });
  });

  it("lists what an automatic payout paid out, its own transaction included, and refuses a manual payout", async () => {
    // Stripe's default schedule (daily), not the manual one Payrun's payees get.
    const account = await t.stripe.accounts.create({
      type: "express",
      capabilities: { transfers: { requested: true } },
    });
    t.simulator.onboardAccount(account.id);
    const payee = account.id;
    const opts = { stripeAccount: payee };
    await chargeFor(payee, 3_000, 300, "pm_card_visa");
    await chargeFor(payee, 2_000, 200, "pm_card_visa");
    t.simulator.advanceClock(3 * DAY);
    const [automatic] = (await t.stripe.payouts.list({}, opts)).data;
    expect(automatic).toMatchObject({ automatic: true, amount: 4_500 });
    const paidOut = await allBalanceTransactions(t.stripe, payee, { payout: String(automatic?.id) });
    expect(paidOut.map((bt) => [bt.type, bt.net]).sort()).toEqual(
      [
        ["payment", 2_700],
        ["payment", 1_800],
        ["payout", -4_500],
      ].sort(),
    );
    expect(paidOut.reduce((sum, bt) => sum + bt.net, 0)).toBe(0);

    // What came in after that payout goes into the next one, not this one.
    await chargeFor(payee, 1_000, 100);
    t.simulator.advanceClock(DAY);
    const payouts = (await t.stripe.payouts.list({}, opts)).data;
    expect(payouts.map((p) => p.amount)).toEqual([900, 4_500]);
    const second = await allBalanceTransactions(t.stripe, payee, { payout: String(payouts[0]?.id) });
    expect(second.map((bt) => bt.net).sort()).toEqual([-900, 900]);

    await chargeFor(payee, 500, 0);
    const manual = await t.stripe.payouts.create({ amount: 500, currency: "usd" }, opts);
    await expect(t.stripe.balanceTransactions.list({ payout: manual.id }, opts)).rejects.toMatchObject({
      statusCode: 400,
      type: "StripeInvalidRequestError",
      param: "payout",
      message: "Balance transaction history can only be filtered on automatic transfers, not manual.",
    });
    await expect(t.stripe.balanceTransactions.list({ payout: "po_nope" }, opts)).rejects.toMatchObject({
      statusCode: 404,
      code: "resource_missing",
    });
    await expectTransactionsToMatchBalance(t.stripe, payee);
  });
});

describe("Stripe's processing fee", () => {
  it("is off by default and, when configured, is carried by charges in fee, fee_details and net", async () => {
    const payee = (await createOnboardedPayee(t, "bt-fee")).id;
    const plain = await chargeFor(payee, 10_000, 1_000);
    const plainTransaction = await t.stripe.balanceTransactions.retrieve(String(plain.balance_transaction));
    expect(plainTransaction).toMatchObject({ fee: 0, fee_details: [], net: 10_000 });

    t.simulator.setProcessingFee({ percentBasisPoints: 290, fixedCents: 30 });
    try {
      const platformBefore = await totalBalance(t.stripe);
      const charge = await chargeFor(payee, 10_000, 1_000);
      const transaction = await t.stripe.balanceTransactions.retrieve(String(charge.balance_transaction));
      expect(transaction).toMatchObject({
        type: "charge",
        amount: 10_000,
        fee: 320,
        net: 9_680,
        fee_details: [{ type: "stripe_fee", amount: 320, currency: "usd", application: null }],
      });
      // The platform pays Stripe's fee out of its application fee; the connected account does not see it.
      expect((await totalBalance(t.stripe)) - platformBefore).toBe(1_000 - 320);
      expect(await totalBalance(t.stripe, payee)).toBe(9_000 * 2);
      // Stripe keeps its fee when the charge is refunded.
      const refund = await t.stripe.refunds.create({ charge: charge.id });
      const refundTransaction = await t.stripe.balanceTransactions.retrieve(
        String(refund.balance_transaction),
      );
      expect(refundTransaction).toMatchObject({ amount: -10_000, fee: 0, net: -10_000 });
      await expectTransactionsToMatchBalance(t.stripe);
    } finally {
      t.simulator.setProcessingFee({ percentBasisPoints: 0, fixedCents: 0 });
    }
  });
});

describe("disputes on destination charges", () => {
  it("withdraw the amount and the dispute fee from the platform only, and reinstate the amount when won", async () => {
    const payee = (await createOnboardedPayee(t, "bt-dispute")).id;
    const charge = await chargeFor(payee, 3_000, 300);
    const platformBefore = await totalBalance(t.stripe);
    const dispute = t.simulator.createDispute(charge.id);
    expect((await totalBalance(t.stripe)) - platformBefore).toBe(-4_500);
    expect(await totalBalance(t.stripe, payee)).toBe(2_700);
    const [withdrawal] = await allBalanceTransactions(t.stripe, undefined, { source: dispute.id });
    expect(withdrawal).toMatchObject({
      type: "adjustment",
      reporting_category: "dispute",
      amount: -3_000,
      fee: 1_500,
      net: -4_500,
      fee_details: [{ type: "stripe_fee", amount: 1_500, description: "Dispute fee" }],
    });

    t.simulator.resolveDispute(dispute.id, "won");
    expect((await totalBalance(t.stripe)) - platformBefore).toBe(-1_500);
    expect(await totalBalance(t.stripe, payee)).toBe(2_700);
    const retrieved = await t.stripe.disputes.retrieve(dispute.id);
    expect(retrieved.balance_transactions.map((bt) => [bt.reporting_category, bt.net])).toEqual([
      ["dispute", -4_500],
      ["dispute_reversal", 3_000],
    ]);
    const types = (await t.stripe.events.list({ limit: 20 })).data
      .filter((event) => (event.data.object as { id?: string }).id === dispute.id)
      .map((event) => event.type);
    expect(types).toEqual([
      "charge.dispute.closed",
      "charge.dispute.funds_reinstated",
      "charge.dispute.funds_withdrawn",
      "charge.dispute.created",
    ]);
    await expectTransactionsToMatchBalance(t.stripe);
    await expectTransactionsToMatchBalance(t.stripe, payee);
  });

  it("leave the connected account alone when lost, until the platform reverses the transfer itself", async () => {
    const payee = (await createOnboardedPayee(t, "bt-dispute-lost")).id;
    const charge = await chargeFor(payee, 2_000, 200);
    const dispute = t.simulator.createDispute(charge.id);
    await t.stripe.disputes.close(dispute.id);
    expect(await totalBalance(t.stripe, payee)).toBe(1_800);
    await t.stripe.transfers.createReversal(String(charge.transfer), { amount: 1_800 });
    expect(await totalBalance(t.stripe, payee)).toBe(0);
    await expectTransactionsToMatchBalance(t.stripe, payee);
  });
});
