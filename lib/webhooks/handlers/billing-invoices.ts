import { eq, or, sql } from "drizzle-orm";
import type Stripe from "stripe";
import type { Db } from "../../../db/client";
import { billingInvoices, placementInvoices } from "../../../db/schema";
import { isUuid } from "../../schemas/common";
import { applied, expandableId, type HandlerOf, type HandlerOutcome, ignored, pending } from "../types";
import { recordInvoiceLifecycle } from "../../billing/invoices";
import { applyCapture, applyRefund, refreshTotals } from "../../billing/invoices-ledger";
import { recordTimelineEntry } from "../../billing/timeline";

// The invoice timeline and ledger from webhooks (registered beside the placement and earnings
// handlers in index.ts). Each applies what Stripe reports in Stripe's numbers
// and timestamps, once per Stripe object (lib/billing/timeline.ts dedupes, the postings are keyed by
// the object), so a webhook after our own call, a redelivery or an out-of-order arrival changes
// nothing. A payment that is not an invoice's is ignored.

type Found = { placementInvoiceId: string; stripeInvoiceId: string | null; paymentIntentId: string | null };

/** The placement invoice a payment intent or charge belongs to: by our stored link, else by its metadata. */
async function invoiceOfPayment(
  tx: Db,
  input: { paymentIntentId?: string | null; chargeId?: string | null; metadata?: Stripe.Metadata | null },
): Promise<Found | null> {
  const conditions = [
    input.paymentIntentId ? eq(billingInvoices.stripePaymentIntentId, input.paymentIntentId) : undefined,
    input.chargeId ? eq(billingInvoices.stripeChargeId, input.chargeId) : undefined,
  ].filter((c) => c !== undefined);
  if (conditions.length > 0) {
    const [row] = await tx
      .select({
        id: billingInvoices.placementInvoiceId,
        pi: billingInvoices.stripePaymentIntentId,
        inv: placementInvoices.stripeInvoiceId,
      })
      .from(billingInvoices)
      .innerJoin(placementInvoices, eq(placementInvoices.id, billingInvoices.placementInvoiceId))
      .where(or(...conditions));
    if (row)
      return {
        placementInvoiceId: row.id,
        stripeInvoiceId: row.inv,
        paymentIntentId: row.pi ?? input.paymentIntentId ?? null,
      };
  }
  const fromMetadata = input.metadata?.placement_invoice_id;
  if (fromMetadata && isUuid(fromMetadata)) {
    const [row] = await tx
      .select({ id: placementInvoices.id, inv: placementInvoices.stripeInvoiceId })
      .from(placementInvoices)
      .where(eq(placementInvoices.id, fromMetadata));
    if (row)
      return {
        placementInvoiceId: row.id,
        stripeInvoiceId: row.inv,
        paymentIntentId: input.paymentIntentId ?? null,
      };
  }
  return null;
}

/** payment_intent.amount_capturable_updated: the client's card is authorised for the invoice. */
export const billingAuthorised: HandlerOf<"payment_intent.amount_capturable_updated"> = async (
  tx,
  { event },
) => {
  const intent = event.data.object;
  if (intent.capture_method !== "manual") return ignored;
  const found = await invoiceOfPayment(tx, { paymentIntentId: intent.id, metadata: intent.metadata });
  if (!found) return ignored;
  const chargeId = expandableId(intent.latest_charge);
  await recordTimelineEntry(tx, {
    placementInvoiceId: found.placementInvoiceId,
    kind: "authorised",
    occurredAt: new Date(intent.created * 1000),
    amountCents: intent.amount_capturable,
    currency: intent.currency,
    sourceId: intent.id,
    stripeIds: { invoice: found.stripeInvoiceId, payment_intent: intent.id, charge: chargeId },
    origin: "webhook",
    stripeEventId: event.id,
  });
  await refreshTotals(tx, found.placementInvoiceId, { paymentIntentId: intent.id, chargeId });
  await tx.execute(sql`
    update billing_invoices set authorised_cents = greatest(authorised_cents, ${intent.amount_capturable}), updated_at = now()
    where placement_invoice_id = ${found.placementInvoiceId}`);
  return applied;
};

/** charge.captured: what was captured, from the charge's balance transaction. */
export const billingCaptured: HandlerOf<"charge.captured"> = async (tx, { event, actor, gateway }) => {
  const charge = event.data.object;
  const paymentIntentId = expandableId(charge.payment_intent);
  const found = await invoiceOfPayment(tx, {
    paymentIntentId,
    chargeId: charge.id,
    metadata: charge.metadata,
  });
  if (!found) return ignored;
  const withBalance = await gateway().retrieveChargeWithBalance(charge.id);
  const bt = withBalance.balance_transaction;
  if (!bt || typeof bt === "string") return pending(`charge ${charge.id} has no balance transaction yet`);
  await applyCapture(tx, {
    placementInvoiceId: found.placementInvoiceId,
    stripeInvoiceId: found.stripeInvoiceId,
    paymentIntentId: paymentIntentId ?? found.paymentIntentId ?? "",
    chargeId: charge.id,
    balanceTransactionId: bt.id,
    amountCents: bt.amount,
    currency: bt.currency,
    capturedAt: new Date(bt.created * 1000),
    availableOn: bt.available_on ? new Date(bt.available_on * 1000) : null,
    origin: "webhook",
    stripeEventId: event.id,
    actor,
  });
  return applied;
};

async function applyStripeRefund(
  tx: Db,
  refund: Stripe.Refund,
  found: Found,
  ctx: { eventId: string; actor: Parameters<typeof applyRefund>[1]["actor"] },
) {
  if (refund.status !== "succeeded" && refund.status !== "pending") return;
  await applyRefund(tx, {
    placementInvoiceId: found.placementInvoiceId,
    stripeInvoiceId: found.stripeInvoiceId,
    paymentIntentId: expandableId(refund.payment_intent) ?? found.paymentIntentId,
    chargeId: expandableId(refund.charge) ?? "",
    refundId: refund.id,
    amountCents: refund.amount,
    currency: refund.currency,
    refundedAt: new Date(refund.created * 1000),
    reasonCode: refund.metadata?.reason_code || null,
    origin: "webhook",
    stripeEventId: ctx.eventId,
    actor: ctx.actor,
  });
}

/** refund.created / refund.updated: a refund of an invoice's payment, in the refund's own numbers. */
export const billingRefundChanged: HandlerOf<"refund.created" | "refund.updated"> = async (
  tx,
  { event, actor },
) => {
  const refund = event.data.object;
  const found = await invoiceOfPayment(tx, {
    paymentIntentId: expandableId(refund.payment_intent),
    chargeId: expandableId(refund.charge),
    metadata: refund.metadata,
  });
  if (!found) return ignored;
  await applyStripeRefund(tx, refund, found, { eventId: event.id, actor });
  return applied;
};

/** charge.refunded: every refund of an invoice's charge (listed from Stripe: the event carries the charge). */
export const billingChargeRefunded: HandlerOf<"charge.refunded"> = async (tx, { event, actor, gateway }) => {
  const charge = event.data.object;
  const found = await invoiceOfPayment(tx, {
    paymentIntentId: expandableId(charge.payment_intent),
    chargeId: charge.id,
    metadata: charge.metadata,
  });
  if (!found) return ignored;
  for (let startingAfter: string | undefined; ; ) {
    const page = await gateway().listRefunds({ charge: charge.id, startingAfter });
    for (const refund of page.data) await applyStripeRefund(tx, refund, found, { eventId: event.id, actor });
    if (!page.has_more || page.data.length === 0) break;
    startingAfter = page.data.at(-1)!.id;
  }
  return applied;
};

/** invoice.created / finalized / paid / voided: the invoice's own steps, at Stripe's status_transitions times. */
export const billingInvoiceLifecycle: HandlerOf<
  "invoice.created" | "invoice.finalized" | "invoice.paid" | "invoice.voided"
> = async (tx, { event }): Promise<HandlerOutcome> => {
  const invoice = event.data.object;
  const [row] = await tx
    .select({ id: placementInvoices.id })
    .from(placementInvoices)
    .where(eq(placementInvoices.stripeInvoiceId, invoice.id!));
  if (!row) {
    // Ours (made by the placement sweeps) but its id is not stored yet: try again later.
    return invoice.metadata?.placement_invoice_id ? pending(`invoice ${invoice.id} not known yet`) : ignored;
  }
  await recordInvoiceLifecycle(tx, row.id, invoice, "webhook", event.id);
  return applied;
};
