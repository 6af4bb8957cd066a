import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StripeGatewayError } from "../../../lib/stripe/errors";
import { createOnboardedPayee, startTestStripe, type TestStripe } from "../../support/stripe";

// Every gateway operation through the real SDK against the simulator.
let t: TestStripe;
beforeAll(async () => {
  t = await startTestStripe();
});
afterAll(async () => {
  await t.close();
});

async function rejection(promise: Promise<unknown>): Promise<StripeGatewayError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StripeGatewayError) return error;
    throw error;
  }
  throw new Error("expected a StripeGatewayError");
}

describe("gateway: connected accounts", () => {
  it("creates an Express account with a manual payout schedule and the payee id", async () => {
    const account = await t.gateway.createExpressAccount({
      email: "ann@example.com",
      country: "US",
      payeeId: "payee-1",
      idempotencyKey: "acct-1",
    });
    expect(account).toMatchObject({
      object: "account",
      type: "express",
      email: "ann@example.com",
      country: "US",
      metadata: { payee_id: "payee-1" },
      payouts_enabled: false,
    });
    expect(account.settings?.payouts?.schedule.interval).toBe("manual");
    expect(account.capabilities?.transfers).toBe("inactive");

    const link = await t.gateway.createAccountLink({
      account: account.id,
      refreshUrl: "http://x/refresh",
      returnUrl: "http://x/return",
      idempotencyKey: "link-1",
    });
    expect(link.object).toBe("account_link");
    expect(link.expires_at).toBeGreaterThan(link.created);

    const notYet = await rejection(t.gateway.createLoginLink(account.id, "login-early"));
    expect(notYet.classified).toMatchObject({ retryable: false, kind: "invalid_request" });

    t.simulator.onboardAccount(account.id);
    const onboarded = await t.gateway.retrieveAccount(account.id);
    expect(onboarded).toMatchObject({
      details_submitted: true,
      payouts_enabled: true,
      capabilities: { transfers: "active" },
    });
    const login = await t.gateway.createLoginLink(account.id, "login-1");
    expect(login.url).toMatch(/^https:\/\//);
  });

  it("sets the payout schedule back to manual", async () => {
    const account = await t.stripe.accounts.create({
      type: "express",
      settings: { payouts: { schedule: { interval: "daily" } } },
    });
    expect(account.settings?.payouts?.schedule.interval).toBe("daily");
    const updated = await t.gateway.setManualPayoutSchedule(account.id, "manual-1");
    expect(updated.settings?.payouts?.schedule.interval).toBe("manual");
  });

  it("answers unknown ids with 404 resource_missing", async () => {
    const error = await rejection(t.gateway.retrieveAccount("acct_missing"));
    expect(error.classified).toMatchObject({ statusCode: 404, code: "resource_missing", retryable: false });
  });
});

describe("gateway: money movement", () => {
  it("transfers, reverses, pays out and reports balances and balance transactions", async () => {
    const payee = await createOnboardedPayee(t, "payee-money");
    const transfer = await t.gateway.createTransfer({
      amount: 12_000,
      currency: "usd",
      destination: payee.id,
      transferGroup: "run-1",
      metadata: { run: "1" },
      idempotencyKey: "tr-1",
    });
    expect(transfer).toMatchObject({
      object: "transfer",
      amount: 12_000,
      destination: payee.id,
      transfer_group: "run-1",
      metadata: { run: "1" },
    });
    const listed = await t.gateway.listTransfers({ transferGroup: "run-1" });
    expect(listed.data.map((item) => item.id)).toEqual([transfer.id]);
    expect((await t.gateway.listTransfers({ destination: payee.id })).data).toHaveLength(1);

    const reversal = await t.gateway.createTransferReversal({
      transferId: transfer.id,
      amount: 2_000,
      idempotencyKey: "trr-1",
    });
    expect(reversal).toMatchObject({ object: "transfer_reversal", amount: 2_000, transfer: transfer.id });

    const balance = await t.gateway.retrieveBalance(payee.id);
    expect(balance.available).toEqual([{ amount: 10_000, currency: "usd", source_types: { card: 10_000 } }]);

    const payout = await t.gateway.createPayout({
      stripeAccount: payee.id,
      amount: 10_000,
      currency: "usd",
      metadata: { batch: "b1" },
      description: "March",
      idempotencyKey: "po-1",
    });
    expect(payout).toMatchObject({
      object: "payout",
      status: "pending",
      amount: 10_000,
      automatic: false,
      metadata: { batch: "b1" },
    });
    expect((await t.gateway.retrievePayout(payee.id, payout.id)).id).toBe(payout.id);
    expect((await t.gateway.listPayouts({ stripeAccount: payee.id })).data.map((p) => p.id)).toEqual([
      payout.id,
    ]);
    expect((await t.gateway.retrieveBalance(payee.id)).available[0]?.amount).toBe(0);

    const transactions = await t.gateway.listBalanceTransactions({ stripeAccount: payee.id });
    expect(transactions.data.map((bt) => [bt.type, bt.amount])).toEqual([
      ["payout", -10_000],
      ["payment_refund", -2_000],
      ["payment", 12_000],
    ]);
    const platformTransactions = await t.gateway.listBalanceTransactions({ limit: 1 });
    expect(platformTransactions.data[0]).toMatchObject({ type: "transfer_refund", amount: 2_000 });
    expect(platformTransactions.has_more).toBe(true);

    const canceled = await t.gateway.cancelPayout(payee.id, payout.id, "po-1-cancel");
    expect(canceled.status).toBe("canceled");
    expect((await t.gateway.retrieveBalance(payee.id)).available[0]?.amount).toBe(10_000);
  });

  it("makes destination charges, refunds them and handles disputes", async () => {
    const payee = await createOnboardedPayee(t, "payee-charge");
    const customer = await t.gateway.createCustomer({
      email: "buyer@example.com",
      name: "Buyer",
      idempotencyKey: "cus-charge",
    });
    const intent = await t.gateway.createDestinationCharge({
      amount: 10_000,
      currency: "usd",
      destination: payee.id,
      applicationFeeAmount: 1_500,
      customer: customer.id,
      metadata: { placement: "pl_1" },
      idempotencyKey: "pi-1",
    });
    expect(intent).toMatchObject({
      object: "payment_intent",
      status: "succeeded",
      amount_received: 10_000,
      application_fee_amount: 1_500,
      transfer_data: { destination: payee.id },
      metadata: { placement: "pl_1" },
    });
    expect((await t.gateway.retrieveBalance(payee.id)).pending[0]?.amount).toBe(8_500);

    const expanded = await t.gateway.retrievePaymentIntent(intent.id, ["latest_charge"]);
    const charge = expanded.latest_charge;
    if (typeof charge !== "object" || charge === null) throw new Error("latest_charge not expanded");
    expect(charge).toMatchObject({
      object: "charge",
      amount: 10_000,
      application_fee_amount: 1_500,
      transfer_data: { destination: payee.id },
    });

    const refund = await t.gateway.createRefund({
      paymentIntent: intent.id,
      amount: 4_000,
      reverseTransfer: true,
      idempotencyKey: "re-1",
    });
    expect(refund).toMatchObject({
      object: "refund",
      amount: 4_000,
      status: "succeeded",
      payment_intent: intent.id,
    });
    expect(refund.transfer_reversal).toMatch(/^trr_/);
    expect((await t.gateway.retrieveCharge(charge.id)).amount_refunded).toBe(4_000);

    const dispute = t.simulator.createDispute(charge.id);
    const retrieved = await t.gateway.retrieveDispute(dispute.id);
    expect(retrieved).toMatchObject({
      object: "dispute",
      status: "needs_response",
      charge: charge.id,
      amount: 6_000,
    });
    const closed = await t.gateway.closeDispute(dispute.id, "dp-close-1");
    expect(closed.status).toBe("lost");
  });

  it("classifies a declined card as final with its decline code", async () => {
    const payee = await createOnboardedPayee(t, "payee-decline");
    const error = await rejection(
      t.gateway.createDestinationCharge({
        amount: 500,
        currency: "usd",
        destination: payee.id,
        applicationFeeAmount: 50,
        paymentMethod: "pm_card_chargeDeclinedInsufficientFunds",
        idempotencyKey: "pi-decline",
      }),
    );
    expect(error.classified).toMatchObject({
      retryable: false,
      kind: "card",
      code: "card_declined",
      declineCode: "insufficient_funds",
      statusCode: 402,
    });
  });
});

describe("gateway: billing", () => {
  it("runs an invoice draft → open → paid, and void, with items and meter events", async () => {
    const customer = await t.gateway.createCustomer({
      email: "client@example.com",
      name: "Client",
      metadata: { org: "o1" },
      idempotencyKey: "cus-bill",
    });
    expect(customer).toMatchObject({
      object: "customer",
      email: "client@example.com",
      metadata: { org: "o1" },
    });

    const invoice = await t.gateway.createInvoice({
      customer: customer.id,
      collectionMethod: "send_invoice",
      daysUntilDue: 14,
      metadata: { period: "2026-11" },
      idempotencyKey: "in-1",
    });
    expect(invoice).toMatchObject({
      object: "invoice",
      status: "draft",
      collection_method: "send_invoice",
      amount_due: 0,
    });
    const item = await t.gateway.createInvoiceItem({
      customer: customer.id,
      amount: 25_000,
      currency: "usd",
      description: "Placement fee",
      invoice: invoice.id,
      idempotencyKey: "ii-1",
    });
    expect(item).toMatchObject({ object: "invoiceitem", amount: 25_000, invoice: invoice.id });

    const finalized = await t.gateway.finalizeInvoice(invoice.id, "in-1-finalize");
    expect(finalized).toMatchObject({ status: "open", amount_due: 25_000 });
    expect(finalized.number).toBeTruthy();
    expect((await t.gateway.sendInvoice(invoice.id, "in-1-send")).status).toBe("open");
    const paid = await t.gateway.payInvoice(invoice.id, "in-1-pay");
    expect(paid).toMatchObject({ status: "paid", amount_paid: 25_000, amount_remaining: 0 });
    expect((await t.gateway.retrieveInvoice(invoice.id)).status_transitions.paid_at).toBeTypeOf("number");

    const second = await t.gateway.createInvoice({
      customer: customer.id,
      collectionMethod: "charge_automatically",
      idempotencyKey: "in-2",
    });
    await t.gateway.createInvoiceItem({
      customer: customer.id,
      amount: 100,
      currency: "usd",
      description: "x",
      invoice: second.id,
      idempotencyKey: "ii-2",
    });
    await t.gateway.finalizeInvoice(second.id, "in-2-finalize");
    expect((await t.gateway.voidInvoice(second.id, "in-2-void")).status).toBe("void");
    const payVoided = await rejection(t.gateway.payInvoice(second.id, "in-2-pay"));
    expect(payVoided.classified.retryable).toBe(false);

    const third = await t.gateway.createInvoice({
      customer: customer.id,
      collectionMethod: "send_invoice",
      daysUntilDue: 7,
      idempotencyKey: "in-3",
    });
    await t.gateway.createInvoiceItem({
      customer: customer.id,
      amount: 100,
      currency: "usd",
      description: "y",
      invoice: third.id,
      idempotencyKey: "ii-3",
    });
    await t.gateway.finalizeInvoice(third.id, "in-3-finalize");
    expect((await t.gateway.markInvoiceUncollectible(third.id, "in-3-unc")).status).toBe("uncollectible");

    const meterEvent = await t.gateway.createMeterEvent({
      eventName: "placement_hours",
      customer: customer.id,
      value: 7,
      identifier: "usage-1",
      idempotencyKey: "me-1",
    });
    expect(meterEvent).toMatchObject({
      object: "billing.meter_event",
      event_name: "placement_hours",
      identifier: "usage-1",
      payload: { stripe_customer_id: customer.id, value: "7" },
    });
  });

  it("fails invoice payment for a customer flagged to fail, and emits invoice.payment_failed", async () => {
    const customer = await t.stripe.customers.create({
      email: "late@example.com",
      metadata: { simulator_payment: "fail" },
    });
    const invoice = await t.gateway.createInvoice({
      customer: customer.id,
      collectionMethod: "charge_automatically",
      idempotencyKey: "in-fail",
    });
    await t.gateway.createInvoiceItem({
      customer: customer.id,
      amount: 900,
      currency: "usd",
      description: "z",
      invoice: invoice.id,
      idempotencyKey: "ii-fail",
    });
    await t.gateway.finalizeInvoice(invoice.id, "in-fail-finalize");
    const error = await rejection(t.gateway.payInvoice(invoice.id, "in-fail-pay"));
    expect(error.classified).toMatchObject({ kind: "card", retryable: false });
    const events = await t.gateway.listEvents({ types: ["invoice.payment_failed"] });
    expect(events.data[0]?.data.object).toMatchObject({ id: invoice.id });
  });
});

describe("gateway: events API", () => {
  it("lists events by type and creation time, paginated", async () => {
    // Earlier tests made transfers in this same second; move past them.
    const since = t.simulator.advanceClock(10);
    const payee = await createOnboardedPayee(t, "payee-events");
    for (let i = 0; i < 3; i++) {
      await t.gateway.createTransfer({
        amount: 100,
        currency: "usd",
        destination: payee.id,
        idempotencyKey: `ev-tr-${i}`,
      });
    }
    const firstPage = await t.gateway.listEvents({
      types: ["transfer.created"],
      createdGte: since,
      limit: 2,
    });
    expect(firstPage.data).toHaveLength(2);
    expect(firstPage.has_more).toBe(true);
    const secondPage = await t.gateway.listEvents({
      types: ["transfer.created"],
      createdGte: since,
      limit: 2,
      startingAfter: firstPage.data[1]?.id,
    });
    expect(secondPage.data).toHaveLength(1);
    expect(secondPage.has_more).toBe(false);
    const connectEvents = await t.gateway.listEvents({ stripeAccount: payee.id });
    expect(connectEvents.data.map((event) => event.type)).toContain("account.updated");
    expect(connectEvents.data[0]?.account).toBe(payee.id);
  });
});
