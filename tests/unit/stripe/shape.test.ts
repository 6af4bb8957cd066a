import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtureKeys } from "../../../lib/stripe/simulator/fixtures";
import { createOnboardedPayee, startTestStripe, type TestStripe } from "../../support/stripe";

// Every object the simulator returns must carry every top-level key of Stripe's own example of
// the same resource (fixtures3.json), events included.
let t: TestStripe;
const samples = new Map<string, object>();

function sample(resource: string, object: object): void {
  if (!samples.has(resource)) samples.set(resource, object);
}

beforeAll(async () => {
  t = await startTestStripe();
  const { gateway, simulator } = t;
  const payee = await createOnboardedPayee(t, "shape-payee");
  sample("account", payee);
  const bankAccount = payee.external_accounts?.data[0];
  if (bankAccount) sample("bank_account", bankAccount);
  sample(
    "account_link",
    await gateway.createAccountLink({
      account: payee.id,
      refreshUrl: "http://x/r",
      returnUrl: "http://x/d",
      idempotencyKey: "shape-link",
    }),
  );
  sample("login_link", await gateway.createLoginLink(payee.id, "shape-login"));
  const transfer = await gateway.createTransfer({
    amount: 5_000,
    currency: "usd",
    destination: payee.id,
    idempotencyKey: "shape-tr",
  });
  sample("transfer", transfer);
  sample(
    "transfer_reversal",
    await gateway.createTransferReversal({
      transferId: transfer.id,
      amount: 100,
      idempotencyKey: "shape-trr",
    }),
  );
  const payout = await gateway.createPayout({
    stripeAccount: payee.id,
    amount: 1_000,
    currency: "usd",
    idempotencyKey: "shape-po",
  });
  sample("payout", payout);
  sample("balance", await gateway.retrieveBalance(payee.id));
  const transactions = await gateway.listBalanceTransactions({ stripeAccount: payee.id });
  for (const bt of transactions.data) sample("balance_transaction", bt);
  const customer = await gateway.createCustomer({
    email: "shape@example.com",
    name: "Shape",
    idempotencyKey: "shape-cus",
  });
  sample("customer", customer);
  const intent = await gateway.createDestinationCharge({
    amount: 2_000,
    currency: "usd",
    destination: payee.id,
    applicationFeeAmount: 200,
    customer: customer.id,
    idempotencyKey: "shape-pi",
  });
  sample("payment_intent", intent);
  const charge = await gateway.retrieveCharge(String(intent.latest_charge));
  sample("charge", charge);
  const refund = await t.stripe.refunds.create({
    charge: charge.id,
    amount: 500,
    reverse_transfer: true,
    refund_application_fee: true,
  });
  sample("refund", refund);
  sample("application_fee", await t.stripe.applicationFees.retrieve(String(charge.application_fee)));
  sample(
    "fee_refund",
    (await t.stripe.applicationFees.listRefunds(String(charge.application_fee))).data[0] ?? {},
  );
  const reversal = await t.stripe.transfers.retrieveReversal(
    String(charge.transfer),
    String(refund.transfer_reversal),
  );
  samples.set("transfer_reversal", reversal);
  const paymentRefund = await t.stripe.refunds.retrieve(
    String(reversal.destination_payment_refund),
    {},
    { stripeAccount: payee.id },
  );
  samples.set("refund (connected account)", paymentRefund);
  for (const bt of (await t.stripe.balanceTransactions.list({ limit: 100 })).data)
    sample("balance_transaction", bt);
  const dispute = simulator.createDispute(charge.id);
  sample("dispute", await gateway.retrieveDispute(dispute.id));
  const invoice = await gateway.createInvoice({
    customer: customer.id,
    collectionMethod: "send_invoice",
    daysUntilDue: 30,
    idempotencyKey: "shape-in",
  });
  sample(
    "invoiceitem",
    await gateway.createInvoiceItem({
      customer: customer.id,
      amount: 700,
      currency: "usd",
      description: "Fee",
      invoice: invoice.id,
      idempotencyKey: "shape-ii",
    }),
  );
  const finalized = await gateway.finalizeInvoice(invoice.id, "shape-fin");
  sample("invoice", finalized);
  const line = finalized.lines.data[0];
  if (line) sample("line_item", line);
  sample(
    "billing.meter_event",
    await gateway.createMeterEvent({
      eventName: "usage",
      customer: customer.id,
      value: 1,
      identifier: "shape-me",
      idempotencyKey: "shape-me",
    }),
  );
  const events = await gateway.listEvents({ limit: 100 });
  for (const event of events.data) sample("event", event);
  for (const event of events.data) samples.set(`event ${event.type}`, event);
  sample("event", (await gateway.listEvents({ stripeAccount: payee.id, limit: 1 })).data[0] ?? {});
  simulator.settlePayout(payout.id, "failed", "account_closed");
  samples.set("payout", await gateway.retrievePayout(payee.id, payout.id));
});
afterAll(async () => {
  await t.close();
});

const FIXTURE_OF: Record<string, string> = {
  "refund (connected account)": "refund",
};

const RESOURCES = [
  "account",
  "bank_account",
  "account_link",
  "login_link",
  "transfer",
  "transfer_reversal",
  "payout",
  "balance",
  "balance_transaction",
  "customer",
  "payment_intent",
  "charge",
  "application_fee",
  "fee_refund",
  "refund",
  "refund (connected account)",
  "dispute",
  "invoice",
  "invoiceitem",
  "line_item",
  "billing.meter_event",
  "event",
];

describe("objects are shaped like Stripe's fixtures3.json", () => {
  it.each(RESOURCES)("%s has every top-level key of Stripe's example", (resource) => {
    const object = samples.get(resource);
    expect(object, `no ${resource} sampled`).toBeDefined();
    const keys = Object.keys(object ?? {});
    const missing = fixtureKeys(FIXTURE_OF[resource] ?? resource).filter((key) => !keys.includes(key));
    expect(missing).toEqual([]);
  });

  it("samples every event type the money flows emit", () => {
    for (const type of [
      "application_fee.created",
      "application_fee.refunded",
      "charge.refunded",
      "refund.created",
      "transfer.reversed",
      "charge.dispute.created",
      "charge.dispute.funds_withdrawn",
    ])
      expect(samples.has(`event ${type}`), type).toBe(true);
  });
});
