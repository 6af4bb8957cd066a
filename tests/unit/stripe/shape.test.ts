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
  const applicationFee = simulator.getObject(String(charge.application_fee));
  if (applicationFee) sample("application_fee", applicationFee);
  sample(
    "refund",
    await gateway.createRefund({ charge: charge.id, amount: 500, idempotencyKey: "shape-re" }),
  );
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
  sample("event", (await gateway.listEvents({ stripeAccount: payee.id, limit: 1 })).data[0] ?? {});
  simulator.settlePayout(payout.id, "failed", "account_closed");
  samples.set("payout", await gateway.retrievePayout(payee.id, payout.id));
});
afterAll(async () => {
  await t.close();
});

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
  "refund",
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
    const missing = fixtureKeys(resource).filter((key) => !keys.includes(key));
    expect(missing).toEqual([]);
  });
});
