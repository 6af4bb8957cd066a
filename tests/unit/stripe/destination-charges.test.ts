import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOnboardedPayee, startTestStripe, type TestStripe } from "../../support/stripe";
import { allBalanceTransactions, expectTransactionsToMatchBalance, netOfTypes, totalBalance } from "./ledger";

// The money of destination charges and their refunds, as Stripe's Connect docs describe it
// ("Create destination charges": Collect fees, Issue refunds), read back through the SDK.

let t: TestStripe;
let payeeCount = 0;
beforeAll(async () => {
  t = await startTestStripe({ platformBalanceCents: 1_000_000 });
});
afterAll(async () => {
  await t.close();
});

type Model = "application_fee_amount" | "transfer_data[amount]";
const FEE_REVENUE = ["application_fee", "application_fee_refund"];

async function newPayee(): Promise<string> {
  payeeCount += 1;
  return (await createOnboardedPayee(t, `dest-${payeeCount}`)).id;
}

/** $amount, with `fee` as application_fee_amount, or `amount − fee` as transfer_data[amount]. */
async function destinationCharge(
  model: Model,
  destination: string,
  amount = 5_000,
  fee = 500,
): Promise<{ intent: Stripe.PaymentIntent; charge: Stripe.Charge }> {
  const intent = await t.stripe.paymentIntents.create({
    amount,
    currency: "usd",
    payment_method: "pm_card_bypassPending",
    confirm: true,
    ...(model === "application_fee_amount"
      ? { application_fee_amount: fee, transfer_data: { destination } }
      : { transfer_data: { destination, amount: amount - fee } }),
  });
  const charge = await t.stripe.charges.retrieve(String(intent.latest_charge));
  return { intent, charge };
}

async function expectAllAccountsBalanced(...accounts: string[]): Promise<void> {
  await expectTransactionsToMatchBalance(t.stripe);
  for (const account of accounts) await expectTransactionsToMatchBalance(t.stripe, account);
}

describe("a destination charge with application_fee_amount", () => {
  it("transfers the whole charge and collects the fee back from the connected account", async () => {
    const payee = await newPayee();
    const platformBefore = await totalBalance(t.stripe);
    const { charge } = await destinationCharge("application_fee_amount", payee);

    expect(charge).toMatchObject({
      amount: 5_000,
      application_fee_amount: 500,
      transfer_data: { amount: null, destination: payee },
    });
    expect(charge.transfer).toMatch(/^tr_/);
    expect(charge.application_fee).toMatch(/^fee_/);
    const transfer = await t.stripe.transfers.retrieve(String(charge.transfer));
    expect(transfer).toMatchObject({ amount: 5_000, destination: payee, source_transaction: charge.id });
    const fee = await t.stripe.applicationFees.retrieve(String(charge.application_fee));
    expect(fee).toMatchObject({
      amount: 500,
      amount_refunded: 0,
      account: payee,
      charge: transfer.destination_payment,
      originating_transaction: charge.id,
      fee_source: { type: "charge", charge: transfer.destination_payment },
    });

    const platformTransactions = await allBalanceTransactions(t.stripe);
    expect(platformTransactions.find((bt) => bt.id === charge.balance_transaction)).toMatchObject({
      type: "charge",
      amount: 5_000,
      fee: 0,
      net: 5_000,
      reporting_category: "charge",
      source: charge.id,
    });
    expect(platformTransactions.find((bt) => bt.source === transfer.id)).toMatchObject({
      type: "transfer",
      amount: -5_000,
      reporting_category: "transfer",
    });
    expect(platformTransactions.find((bt) => bt.id === fee.balance_transaction)).toMatchObject({
      type: "application_fee",
      amount: 500,
      net: 500,
      reporting_category: "platform_earning",
      source: fee.id,
    });
    const [payment] = await allBalanceTransactions(t.stripe, payee);
    expect(payment).toMatchObject({
      type: "payment",
      amount: 5_000,
      fee: 500,
      net: 4_500,
      source: transfer.destination_payment,
      reporting_category: "charge",
      fee_details: [{ type: "application_fee", amount: 500, currency: "usd" }],
    });
    const py = await t.stripe.charges.retrieve(
      String(transfer.destination_payment),
      {},
      { stripeAccount: payee },
    );
    expect(py).toMatchObject({ amount: 5_000, source_transfer: transfer.id, application_fee: fee.id });

    expect(await totalBalance(t.stripe, payee)).toBe(4_500);
    expect((await totalBalance(t.stripe)) - platformBefore).toBe(500);
    await expectAllAccountsBalanced(payee);

    const events = await t.stripe.events.list({ types: ["application_fee.created"], limit: 1 });
    expect(events.data[0]?.data.object).toMatchObject({ id: fee.id, amount: 500 });
  });

  const table = [
    { flags: { reverse_transfer: true }, connected: -4_000, platform: 0, feeRevenue: 0 },
    {
      flags: { reverse_transfer: true, refund_application_fee: true },
      connected: -3_600,
      platform: -400,
      feeRevenue: -400,
    },
    { flags: {}, connected: 0, platform: -4_000, feeRevenue: 0 },
    { flags: { refund_application_fee: true }, connected: 400, platform: -4_400, feeRevenue: -400 },
  ];
  it.each(table)("refund 40.00 of 50.00 with $flags", async ({ flags, connected, platform, feeRevenue }) => {
    const payee = await newPayee();
    const { charge } = await destinationCharge("application_fee_amount", payee);
    const [connectedBefore, platformBefore, revenueBefore] = [
      await totalBalance(t.stripe, payee),
      await totalBalance(t.stripe),
      await netOfTypes(t.stripe, FEE_REVENUE),
    ];
    const refund = await t.stripe.refunds.create({ charge: charge.id, amount: 4_000, ...flags });

    expect((await totalBalance(t.stripe, payee)) - connectedBefore).toBe(connected);
    expect((await totalBalance(t.stripe)) - platformBefore).toBe(platform);
    expect((await netOfTypes(t.stripe, FEE_REVENUE)) - revenueBefore).toBe(feeRevenue);
    expect(refund.transfer_reversal === null).toBe(!("reverse_transfer" in flags));
    const fee = await t.stripe.applicationFees.retrieve(String(charge.application_fee));
    expect(fee.amount_refunded).toBe(Math.abs(feeRevenue));
    await expectAllAccountsBalanced(payee);
  });

  it("books a reversal and a fee refund on both accounts with their own balance transactions", async () => {
    const payee = await newPayee();
    const { charge } = await destinationCharge("application_fee_amount", payee);
    const refund = await t.stripe.refunds.create({
      payment_intent: String(charge.payment_intent),
      amount: 4_000,
      reverse_transfer: true,
      refund_application_fee: true,
    });
    const reversal = await t.stripe.transfers.retrieveReversal(
      String(charge.transfer),
      String(refund.transfer_reversal),
    );
    expect(reversal).toMatchObject({ amount: 4_000, source_refund: refund.id });
    expect(reversal.destination_payment_refund).toMatch(/^pyr_/);
    const [feeRefund] = (await t.stripe.applicationFees.listRefunds(String(charge.application_fee))).data;
    expect(feeRefund).toMatchObject({ object: "fee_refund", amount: 400, fee: charge.application_fee });

    const platform = await allBalanceTransactions(t.stripe);
    expect(platform.find((bt) => bt.source === refund.id)).toMatchObject({ type: "refund", amount: -4_000 });
    expect(platform.find((bt) => bt.source === reversal.id)).toMatchObject({
      type: "transfer_refund",
      amount: 4_000,
      reporting_category: "transfer_reversal",
    });
    expect(platform.find((bt) => bt.source === feeRefund?.id)).toMatchObject({
      type: "application_fee_refund",
      amount: -400,
      reporting_category: "platform_earning_refund",
    });
    const connected = await allBalanceTransactions(t.stripe, payee);
    expect(connected.map((bt) => [bt.type, bt.amount, bt.net])).toEqual([
      ["adjustment", 400, 400],
      ["payment_refund", -4_000, -4_000],
      ["payment", 5_000, 4_500],
    ]);
    expect(connected[0]).toMatchObject({ reporting_category: "fee", source: feeRefund?.id });
    expect(connected[1]?.source).toBe(reversal.destination_payment_refund);
    const paymentRefund = await t.stripe.refunds.retrieve(
      String(reversal.destination_payment_refund),
      {},
      { stripeAccount: payee },
    );
    expect(paymentRefund).toMatchObject({ amount: 4_000, source_transfer_reversal: reversal.id });

    const events = await t.stripe.events.list({ limit: 10 });
    const byType = new Map([...events.data].reverse().map((event) => [event.type, event]));
    expect(byType.get("charge.refunded")?.data).toMatchObject({
      object: { id: charge.id, amount_refunded: 4_000, refunded: false },
      previous_attributes: { amount_refunded: 0 },
    });
    expect(byType.get("refund.created")?.data.object).toMatchObject({ id: refund.id, amount: 4_000 });
    expect(byType.get("transfer.reversed")?.data.object).toMatchObject({
      id: charge.transfer,
      amount_reversed: 4_000,
    });
    expect(byType.get("application_fee.refunded")?.data).toMatchObject({
      object: { id: charge.application_fee, amount_refunded: 400 },
      previous_attributes: { amount_refunded: 0 },
    });
  });
});

describe("a destination charge with transfer_data[amount]", () => {
  it("transfers exactly that amount and creates no application fee", async () => {
    const payee = await newPayee();
    const platformBefore = await totalBalance(t.stripe);
    const { charge } = await destinationCharge("transfer_data[amount]", payee);
    expect(charge).toMatchObject({
      application_fee: null,
      application_fee_amount: null,
      transfer_data: { amount: 4_500, destination: payee },
    });
    expect((await t.stripe.transfers.retrieve(String(charge.transfer))).amount).toBe(4_500);
    expect((await allBalanceTransactions(t.stripe, payee)).map((bt) => [bt.type, bt.amount, bt.fee])).toEqual(
      [["payment", 4_500, 0]],
    );
    expect(await totalBalance(t.stripe, payee)).toBe(4_500);
    expect((await totalBalance(t.stripe)) - platformBefore).toBe(500);
    await expectAllAccountsBalanced(payee);
  });

  const table = [
    { flags: { reverse_transfer: true }, connected: -3_600, platform: -400 },
    { flags: { reverse_transfer: true, refund_application_fee: true }, connected: -3_600, platform: -400 },
    { flags: {}, connected: 0, platform: -4_000 },
  ];
  it.each(table)("refund 40.00 of 50.00 with $flags", async ({ flags, connected, platform }) => {
    const payee = await newPayee();
    const { charge } = await destinationCharge("transfer_data[amount]", payee);
    const [connectedBefore, platformBefore] = [
      await totalBalance(t.stripe, payee),
      await totalBalance(t.stripe),
    ];
    await t.stripe.refunds.create({ charge: charge.id, amount: 4_000, ...flags });
    expect((await totalBalance(t.stripe, payee)) - connectedBefore).toBe(connected);
    expect((await totalBalance(t.stripe)) - platformBefore).toBe(platform);
    await expectAllAccountsBalanced(payee);
  });
});

describe("several refunds of one charge", () => {
  const orders = [
    { name: "partial then full", amounts: [4_000, 1_000] },
    { name: "small then the rest", amounts: [1_000, 4_000] },
  ];
  for (const model of ["application_fee_amount", "transfer_data[amount]"] as const) {
    it.each(orders)(`${model}: $name, reversing and refunding the fee each time`, async ({ amounts }) => {
      const payee = await newPayee();
      const { charge } = await destinationCharge(model, payee);
      for (const amount of amounts) {
        await t.stripe.refunds.create({
          charge: charge.id,
          amount,
          reverse_transfer: true,
          refund_application_fee: true,
        });
        await expectAllAccountsBalanced(payee);
      }
      const transfer = await t.stripe.transfers.retrieve(String(charge.transfer));
      expect(transfer).toMatchObject({ reversed: true, amount_reversed: transfer.amount });
      expect(await totalBalance(t.stripe, payee)).toBe(0);
      expect((await t.stripe.charges.retrieve(charge.id)).refunded).toBe(true);
      if (model === "application_fee_amount") {
        const fee = await t.stripe.applicationFees.retrieve(String(charge.application_fee));
        expect(fee).toMatchObject({ refunded: true, amount_refunded: 500 });
      }
      await expect(t.stripe.refunds.create({ charge: charge.id, amount: 1 })).rejects.toMatchObject({
        code: "charge_already_refunded",
      });
    });
  }

  it("rounds each proportional slice so that the slices of a whole refund add up exactly", async () => {
    const payee = await newPayee();
    const { charge } = await destinationCharge("application_fee_amount", payee, 1_000, 333);
    for (const amount of [300, 300, 400])
      await t.stripe.refunds.create({ charge: charge.id, amount, refund_application_fee: true });
    const refunds = await t.stripe.applicationFees.listRefunds(String(charge.application_fee));
    // 333 × 300/1000 = 99.9 → 100; × 600/1000 = 199.8 → 200 (so +100); the rest is 133.
    expect(refunds.data.map((r) => r.amount)).toEqual([133, 100, 100]);

    const other = await newPayee();
    const split = await destinationCharge("transfer_data[amount]", other, 1_000, 333);
    for (const amount of [300, 300, 400])
      await t.stripe.refunds.create({ charge: split.charge.id, amount, reverse_transfer: true });
    const reversals = await t.stripe.transfers.listReversals(String(split.charge.transfer));
    // 667 × 300/1000 = 200.1 → 200; × 600/1000 = 400.2 → 400 (so +200); the rest is 267.
    expect(reversals.data.map((r) => r.amount)).toEqual([267, 200, 200]);
    await expectAllAccountsBalanced(payee, other);
  });

  it("reverses only for the refunds that asked for it", async () => {
    const payee = await newPayee();
    const { charge } = await destinationCharge("application_fee_amount", payee);
    await t.stripe.refunds.create({ charge: charge.id, amount: 1_000 });
    await t.stripe.refunds.create({ charge: charge.id, amount: 1_000, reverse_transfer: true });
    expect((await t.stripe.transfers.retrieve(String(charge.transfer))).amount_reversed).toBe(1_000);
    expect(await totalBalance(t.stripe, payee)).toBe(3_500);
    await expectAllAccountsBalanced(payee);
  });
});

describe("application fees on their own", () => {
  it("lists and retrieves fees, and refunds one without touching the charge", async () => {
    const payee = await newPayee();
    const { charge } = await destinationCharge("application_fee_amount", payee);
    const listed = await t.stripe.applicationFees.list({ charge: charge.id });
    expect(listed.data.map((fee) => fee.id)).toEqual([charge.application_fee]);
    const feeId = String(charge.application_fee);
    const feeRefund = await t.stripe.applicationFees.createRefund(feeId, {
      amount: 200,
      metadata: { why: "x" },
    });
    expect(feeRefund).toMatchObject({
      object: "fee_refund",
      amount: 200,
      fee: feeId,
      metadata: { why: "x" },
    });
    expect(await totalBalance(t.stripe, payee)).toBe(4_700);
    expect((await t.stripe.charges.retrieve(charge.id)).amount_refunded).toBe(0);
    expect(await t.stripe.applicationFees.retrieveRefund(feeId, feeRefund.id)).toMatchObject({ amount: 200 });
    await t.stripe.applicationFees.updateRefund(feeId, feeRefund.id, { metadata: { why: "y" } });
    const updated = await t.stripe.events.list({ types: ["application_fee.refund.updated"], limit: 1 });
    expect(updated.data[0]?.data.object).toMatchObject({ id: feeRefund.id, metadata: { why: "y" } });
    await expect(t.stripe.applicationFees.createRefund(feeId, { amount: 301 })).rejects.toMatchObject({
      statusCode: 400,
    });
    await t.stripe.applicationFees.createRefund(feeId);
    expect(await t.stripe.applicationFees.retrieve(feeId)).toMatchObject({
      refunded: true,
      amount_refunded: 500,
    });
    await expectAllAccountsBalanced(payee);
  });

  it("refunds the fee in proportion to a transfer reversal made with refund_application_fee", async () => {
    const payee = await newPayee();
    const { charge } = await destinationCharge("application_fee_amount", payee);
    const reversal = await t.stripe.transfers.createReversal(String(charge.transfer), {
      amount: 2_500,
      refund_application_fee: true,
    });
    expect(reversal.amount).toBe(2_500);
    expect((await t.stripe.applicationFees.retrieve(String(charge.application_fee))).amount_refunded).toBe(
      250,
    );
    expect(await totalBalance(t.stripe, payee)).toBe(4_500 - 2_500 + 250);
    const listed = await t.stripe.transfers.listReversals(String(charge.transfer));
    expect(listed.data.map((r) => r.id)).toEqual([reversal.id]);
    await expectAllAccountsBalanced(payee);
  });

  it("refuses application_fee_amount together with transfer_data[amount]", async () => {
    const payee = await newPayee();
    await expect(
      t.stripe.paymentIntents.create({
        amount: 1_000,
        currency: "usd",
        payment_method: "pm_card_bypassPending",
        confirm: true,
        application_fee_amount: 100,
        transfer_data: { destination: payee, amount: 900 },
      }),
    ).rejects.toMatchObject({ statusCode: 400, param: "application_fee_amount" });
  });
});
