import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import { postLedgerTransaction } from "../ledger";
import { toCents } from "../money";
import { recordTimelineEntry } from "./timeline";

// What Stripe reported for an invoice's payment, applied once whichever reports it first (our call
// or a webhook): the timeline entry, the ledger posting (keyed by the Stripe object, so the second
// report posts nothing) and the invoice's running totals. Amounts are Stripe's: the capture's
// balance transaction, the refund's amount. Ledger: a capture moves the client's money in through
// Stripe (stripe_clearing → client_funds); a refund sends it back (client_funds → stripe_clearing).
// Each posting carries stripeRefs where reconciliation files Stripe's balance transactions: a
// capture on the invoice (an invoice's charge resolves to the invoice it paid, through its invoice
// payment; lib/reconciliation/resolve.ts), on the charge only when the payment is on no invoice; a
// refund on the refund. Metadata names the invoice, payment intent and charge.

export type CaptureFacts = {
  placementInvoiceId: string;
  stripeInvoiceId: string | null;
  paymentIntentId: string;
  chargeId: string;
  balanceTransactionId: string;
  /** The captured amount, from the charge's balance transaction (gross). */
  amountCents: number;
  currency: string;
  /** The balance transaction's created. */
  capturedAt: Date;
  /** When Stripe makes the money available: the invoice's settlement time. */
  availableOn: Date | null;
  origin: "api" | "webhook";
  stripeEventId?: string | null;
  actor: Actor;
};

export async function applyCapture(tx: Db, f: CaptureFacts): Promise<void> {
  const ids = {
    invoice: f.stripeInvoiceId,
    payment_intent: f.paymentIntentId,
    charge: f.chargeId,
    balance_transaction: f.balanceTransactionId,
  };
  const fresh = await recordTimelineEntry(tx, {
    placementInvoiceId: f.placementInvoiceId,
    kind: "captured",
    occurredAt: f.capturedAt,
    amountCents: f.amountCents,
    currency: f.currency,
    sourceId: f.chargeId,
    stripeIds: ids,
    origin: f.origin,
    stripeEventId: f.stripeEventId,
  });
  if (f.availableOn) {
    await recordTimelineEntry(tx, {
      placementInvoiceId: f.placementInvoiceId,
      kind: "settled",
      occurredAt: f.availableOn,
      amountCents: f.amountCents,
      currency: f.currency,
      sourceId: f.balanceTransactionId,
      stripeIds: ids,
      origin: f.origin,
      stripeEventId: f.stripeEventId,
    });
  }
  await postLedgerTransaction(tx, {
    idempotencyKey: `billing_capture:${f.chargeId}`,
    kind: "invoice_captured",
    description: `client payment captured for invoice ${f.stripeInvoiceId ?? f.placementInvoiceId}`,
    currency: f.currency,
    sourceType: "placement_invoice",
    sourceId: f.placementInvoiceId,
    metadata: { placement_invoice_id: f.placementInvoiceId, stripe_invoice_id: f.stripeInvoiceId, ...ids },
    effectiveAt: f.capturedAt,
    lines: [
      { kind: "stripe_clearing", amount: -f.amountCents },
      { kind: "client_funds", amount: f.amountCents },
    ],
    stripeRefs: [{ account: "platform", object: f.stripeInvoiceId ?? f.chargeId, amount: f.amountCents }],
  });
  await refreshTotals(tx, f.placementInvoiceId, { paymentIntentId: f.paymentIntentId, chargeId: f.chargeId });
  if (fresh) {
    await recordAudit(tx, {
      actor: f.actor,
      action: "billing_invoice.captured",
      entityType: "placement_invoice",
      entityId: f.placementInvoiceId,
      after: { amountCents: f.amountCents, currency: f.currency, ...ids },
    });
  }
}

export type RefundFacts = {
  placementInvoiceId: string;
  stripeInvoiceId: string | null;
  paymentIntentId: string | null;
  chargeId: string;
  refundId: string;
  /** The refund's amount at Stripe. */
  amountCents: number;
  currency: string;
  /** The refund's created. */
  refundedAt: Date;
  reasonCode?: string | null;
  origin: "api" | "webhook";
  stripeEventId?: string | null;
  actor: Actor;
};

export async function applyRefund(tx: Db, f: RefundFacts): Promise<void> {
  const ids = {
    invoice: f.stripeInvoiceId,
    payment_intent: f.paymentIntentId,
    charge: f.chargeId,
    refund: f.refundId,
  };
  const fresh = await recordTimelineEntry(tx, {
    placementInvoiceId: f.placementInvoiceId,
    kind: "refunded",
    occurredAt: f.refundedAt,
    amountCents: f.amountCents,
    currency: f.currency,
    sourceId: f.refundId,
    stripeIds: ids,
    origin: f.origin,
    stripeEventId: f.stripeEventId,
  });
  await postLedgerTransaction(tx, {
    idempotencyKey: `billing_refund:${f.refundId}`,
    kind: "invoice_refunded",
    description: `refund to the client of invoice ${f.stripeInvoiceId ?? f.placementInvoiceId}`,
    currency: f.currency,
    sourceType: "placement_invoice",
    sourceId: f.placementInvoiceId,
    metadata: {
      placement_invoice_id: f.placementInvoiceId,
      stripe_invoice_id: f.stripeInvoiceId,
      reason_code: f.reasonCode ?? null,
      ...ids,
    },
    effectiveAt: f.refundedAt,
    lines: [
      { kind: "client_funds", amount: -f.amountCents },
      { kind: "stripe_clearing", amount: f.amountCents },
    ],
    stripeRefs: [{ account: "platform", object: f.refundId, amount: -f.amountCents }],
  });
  await refreshTotals(tx, f.placementInvoiceId, { paymentIntentId: f.paymentIntentId, chargeId: f.chargeId });
  if (fresh) {
    await recordAudit(tx, {
      actor: f.actor,
      action: "billing_invoice.refunded",
      entityType: "placement_invoice",
      entityId: f.placementInvoiceId,
      after: { amountCents: f.amountCents, currency: f.currency, reasonCode: f.reasonCode ?? null, ...ids },
    });
  }
}

/** The invoice's billing row (made if missing) takes its totals from the timeline. */
export async function refreshTotals(
  tx: Db,
  placementInvoiceId: string,
  link: { paymentIntentId?: string | null; chargeId?: string | null } = {},
): Promise<void> {
  await tx.execute(sql`
    insert into billing_invoices (placement_invoice_id, stripe_payment_intent_id, stripe_charge_id)
    values (${placementInvoiceId}, ${link.paymentIntentId ?? null}, ${link.chargeId ?? null})
    on conflict (placement_invoice_id) do update set
      stripe_payment_intent_id = coalesce(billing_invoices.stripe_payment_intent_id, excluded.stripe_payment_intent_id),
      stripe_charge_id = coalesce(billing_invoices.stripe_charge_id, excluded.stripe_charge_id)`);
  const [totals] = await queryRows<{ captured: string; refunded: string; settled_at: string | Date | null }>(
    tx,
    sql`select coalesce(sum(amount_cents) filter (where kind = 'captured'), 0) as captured,
               coalesce(sum(amount_cents) filter (where kind = 'refunded'), 0) as refunded,
               min(occurred_at) filter (where kind = 'settled') as settled_at
          from billing_invoice_events where placement_invoice_id = ${placementInvoiceId}`,
  );
  await tx.execute(sql`
    update billing_invoices set
      captured_cents = ${toCents(totals?.captured ?? 0)},
      refunded_cents = ${toCents(totals?.refunded ?? 0)},
      settled_at = ${totals?.settled_at ? new Date(totals.settled_at).toISOString() : null}::timestamptz,
      updated_at = now()
    where placement_invoice_id = ${placementInvoiceId}`);
}
