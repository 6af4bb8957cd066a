import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PlacementInvoice, placementInvoices, placements } from "@/db/schema";
import { completeExpiredGuarantees } from "@/lib/placements/complete-guarantees";
import { createPlacementInvoicesSweep } from "@/lib/placements/create-invoices";
import { INVOICE_DAYS_UNTIL_DUE, invoiceKeys } from "@/lib/placements/invoice-state";
import { runSweep } from "@/lib/sweeps/run";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { makeCustomer, makeExpiredPlacement, makePayee } from "../sweeps/helpers";

// create-placement-invoices when a Stripe answer is lost (the call ran, our process never saw the id)
// and the retry comes after Stripe has forgotten the idempotency key (24 h), or after the placement
// changed. No SDK retries, so an injected 500 fails the step at once.

const HOUR_MS = 3600_000;
let t: TestDb;
let stripe: TestStripe;

beforeAll(async () => {
  [t, stripe] = await Promise.all([createTestDb(), startTestStripe({ maxRetries: 0 })]);
});
afterAll(async () => {
  await stripe?.close();
  await t?.close();
});

async function completedPlacement(name: string) {
  const customer = await makeCustomer(stripe, name);
  const payee = await makePayee(t.db, `${name} payee`);
  const placement = await makeExpiredPlacement(t.db, { payeeId: payee.id, customer });
  await runSweep(t.db, completeExpiredGuarantees);
  return { customer, placement };
}

const rowOf = async (placementId: string) =>
  (await t.db.select().from(placementInvoices).where(eq(placementInvoices.placementId, placementId)))[0]!;

const invoicesOf = async (customer: string, rowId: string) =>
  (await stripe.gateway.listInvoices({ customer, limit: 100 })).data.filter(
    (i) => i.metadata?.placement_invoice_id === rowId,
  );

/** Make the next request on `endpoint` fail with a 500 before it runs (no SDK retries here). */
const failNext = (endpoint: string) =>
  stripe.simulator.setFaults({ endpoints: { [endpoint]: { errorCount: 1 } } });

/**
 * What a crash right after Stripe answered leaves behind: the call ran at Stripe with the row's key
 * and parameters, and the row never stored the id. (The simulator's "drop after" fault cannot show
 * it: the SDK always resends once on a reset connection, and that resend is replayed.)
 */
const lostInvoiceCall = (row: PlacementInvoice, customer: string, description: string) =>
  stripe.gateway.createInvoice({
    customer,
    collectionMethod: "send_invoice",
    daysUntilDue: INVOICE_DAYS_UNTIL_DUE,
    description,
    metadata: { placement_id: row.placementId, placement_invoice_id: row.id },
    idempotencyKey: invoiceKeys(row.idempotencyKey).invoice,
  });

describe("create-placement-invoices after a lost Stripe answer", () => {
  it("an invoice item whose id was lost is found on the invoice after 24 h, not added twice", async () => {
    const { customer, placement } = await completedPlacement("Lost Item Ltd");
    const sweep = createPlacementInvoicesSweep(stripe.gateway);
    const now = new Date();
    stripe.simulator.startClockAt(Math.floor(now.getTime() / 1000));
    failNext("POST /v1/invoiceitems");
    expect(await runSweep(t.db, sweep, { now })).toMatchObject({ processed: 0, failed: 1 });
    const failed = await rowOf(placement.id);
    expect(failed).toMatchObject({ status: "creating", stripeInvoiceItemId: null });
    expect(failed.stripeInvoiceId).not.toBeNull();
    await stripe.gateway.createInvoiceItem({
      customer,
      amount: failed.amountCents,
      currency: failed.currency,
      description: failed.description!,
      invoice: failed.stripeInvoiceId!,
      metadata: { placement_id: placement.id, placement_invoice_id: failed.id },
      idempotencyKey: invoiceKeys(failed.idempotencyKey).item,
    });

    stripe.simulator.advanceClock(25 * 3600);
    const later = new Date(now.getTime() + 25 * HOUR_MS);
    expect(await runSweep(t.db, sweep, { now: later })).toMatchObject({ processed: 1, failed: 0 });
    const drafted = await rowOf(placement.id);
    expect(drafted.status).toBe("draft");
    const invoice = await stripe.gateway.retrieveInvoice(drafted.stripeInvoiceId!);
    expect(invoice.total).toBe(20_000);
    expect(invoice.lines.data).toHaveLength(1);
    expect(invoice.lines.data[0]!.parent?.invoice_item_details?.invoice_item).toBe(
      drafted.stripeInvoiceItemId,
    );
    expect(await invoicesOf(customer, drafted.id)).toHaveLength(1);
  });

  it("an invoice whose id was lost is found by its metadata after 24 h, not created twice", async () => {
    const { customer, placement } = await completedPlacement("Lost Invoice Ltd");
    const sweep = createPlacementInvoicesSweep(stripe.gateway);
    const now = new Date(Date.now() + 30 * 24 * HOUR_MS);
    stripe.simulator.startClockAt(Math.floor(now.getTime() / 1000));
    failNext("POST /v1/invoices");
    expect(await runSweep(t.db, sweep, { now })).toMatchObject({ processed: 0, failed: 1 });
    const failed = await rowOf(placement.id);
    expect(failed).toMatchObject({ status: "creating", stripeInvoiceId: null });
    const lost = await lostInvoiceCall(failed, customer, failed.description!);

    stripe.simulator.advanceClock(25 * 3600);
    const later = new Date(now.getTime() + 25 * HOUR_MS);
    expect(await runSweep(t.db, sweep, { now: later })).toMatchObject({ processed: 1, failed: 0 });
    const drafted = await rowOf(placement.id);
    expect(drafted).toMatchObject({ status: "draft", stripeInvoiceId: lost.id });
    expect((await stripe.gateway.retrieveInvoice(lost.id!)).total).toBe(20_000);
    expect(await invoicesOf(customer, failed.id)).toHaveLength(1);
  });

  it("a retry sends the parameters snapshotted on the row, even after the placement changed", async () => {
    const { customer, placement } = await completedPlacement("Renamed Corp");
    const sweep = createPlacementInvoicesSweep(stripe.gateway);
    const now = new Date(Date.now() + 90 * 24 * HOUR_MS);
    stripe.simulator.startClockAt(Math.floor(now.getTime() / 1000));
    failNext("POST /v1/invoices");
    expect(await runSweep(t.db, sweep, { now })).toMatchObject({ failed: 1 });
    const failed = await rowOf(placement.id);
    const description = `Placement fee: Grace Hopper (placement ${placement.id})`;
    const lost = await lostInvoiceCall(failed, customer, description);

    // Edited behind the sweep's back while the key is live: Stripe refuses a changed request on it.
    const otherCustomer = await makeCustomer(stripe, "Someone Else Inc");
    await t.db
      .update(placements)
      .set({ candidateName: "Ada Lovelace", clientStripeCustomerId: otherCustomer })
      .where(eq(placements.id, placement.id));
    const retry = new Date(now.getTime() + HOUR_MS);
    expect(await runSweep(t.db, sweep, { now: retry })).toMatchObject({ processed: 1, failed: 0 });
    const drafted = await rowOf(placement.id);
    expect(drafted).toMatchObject({ status: "draft", lastError: null, stripeInvoiceId: lost.id });
    const invoice = await stripe.gateway.retrieveInvoice(drafted.stripeInvoiceId!);
    expect(invoice).toMatchObject({ customer, total: 20_000, description });
    expect(drafted).toMatchObject({ clientStripeCustomerId: customer, description });
    expect(drafted.firstAttemptAt?.toISOString()).toBe(now.toISOString());
  });
});
