import { and, eq, inArray, notInArray } from "drizzle-orm";
import type Stripe from "stripe";
import type { Db } from "../../db/client";
import {
  type Placement,
  type PlacementInvoice,
  type PlacementInvoiceStatus,
  type PlacementStatus,
  placementInvoices,
  placements,
} from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit, recordAudits } from "../audit";
import { enqueueOutbox } from "../outbox";
import type { StripeGateway } from "../stripe/gateway";
import { deferInvoiceAfterFailure, invoiceKeys } from "./invoice-state";

// A cancelled or failed placement's invoice.
//
// Decision: no Stripe call in the cancel request. cancelPlacement only stamps void_requested_at on the
// invoice row (same transaction as the cancellation) and the sweeps act on it:
// - `creating` / `draft` rows are voided locally by create-/finalize-placement-invoices without any
//   Stripe call. A Stripe draft, if one was made, is left unsent: it was created with auto_advance
//   false, so Stripe never finalizes, sends or charges it on its own.
// - `open` / `payment_failed` / `uncollectible` rows (sent to the client) are voided at Stripe by
//   finalize-placement-invoices with a key derived from the row's stored key (`<key>:void`).
// This keeps Stripe's latency and outages out of the request, and closes the race with a sweep that
// is finalizing the same draft at that moment: whatever state it lands in, the stamp is still there
// and the next finalize run voids it.

/** Invoice states where a client may still be asked to pay, and Stripe can void. */
export const VOIDABLE_AT_STRIPE: PlacementInvoiceStatus[] = ["open", "payment_failed", "uncollectible"];
const NOT_YET_SENT: PlacementInvoiceStatus[] = ["creating", "draft"];

export const placementEnded = (status: PlacementStatus) => status === "cancelled" || status === "failed";

/**
 * In cancelPlacement's transaction: mark the placement's invoice for voiding. When the client has
 * already paid, nothing can be undone automatically (a refund is a human decision): ops get an alert.
 */
export async function requestInvoiceVoid(
  tx: Db,
  placement: Pick<Placement, "id" | "payeeId">,
  actor: Actor,
  reason: string,
  now: Date,
): Promise<void> {
  const [invoice] = await tx
    .select()
    .from(placementInvoices)
    .where(eq(placementInvoices.placementId, placement.id))
    .for("update");
  if (!invoice) return;
  if (invoice.status === "paid") {
    await enqueueOutbox(tx, paidInvoiceAlert(invoice, placement.payeeId, reason));
    return;
  }
  if (invoice.status === "void" || invoice.voidRequestedAt) return;
  const [after] = await tx
    .update(placementInvoices)
    .set({ voidRequestedAt: now, updatedAt: now })
    .where(eq(placementInvoices.id, invoice.id))
    .returning();
  await recordAudit(tx, {
    actor,
    action: "placement_invoice.void_requested",
    entityType: "placement_invoice",
    entityId: invoice.id,
    before: { status: invoice.status, voidRequestedAt: null },
    after,
    reason,
  });
}

/** Void rows that never reached the client (still `creating`/`draft` here), without calling Stripe. */
export async function abandonInvoices(
  tx: Db,
  rows: PlacementInvoice[],
  fromStatuses: PlacementInvoiceStatus[],
  actor: Actor,
  now: Date,
): Promise<void> {
  if (rows.length === 0) return;
  const voided = await tx
    .update(placementInvoices)
    .set({ status: "void", voidedAt: now, voidRequestedAt: now, leaseExpiresAt: null, updatedAt: now })
    .where(
      and(
        inArray(
          placementInvoices.id,
          rows.map((r) => r.id),
        ),
        inArray(
          placementInvoices.status,
          fromStatuses.filter((s) => NOT_YET_SENT.includes(s)),
        ),
      ),
    )
    .returning();
  const before = new Map(rows.map((r) => [r.id, r.status]));
  await recordAudits(
    tx,
    voided.map((after) => ({
      actor,
      action: "placement_invoice.voided",
      entityType: "placement_invoice",
      entityId: after.id,
      before: { status: before.get(after.id) },
      after,
      reason: after.stripeInvoiceId
        ? "placement cancelled before the invoice was sent; the Stripe draft is left unsent"
        : "placement cancelled before the invoice was created at Stripe",
    })),
  );
}

/** finalize-placement-invoices: void a sent invoice whose placement was cancelled. */
export async function voidAtStripe(
  db: Db,
  gateway: StripeGateway,
  row: PlacementInvoice,
  actor: Actor,
  now: Date,
): Promise<boolean> {
  const stripeInvoiceId = row.stripeInvoiceId!;
  try {
    let invoice: Stripe.Invoice;
    try {
      invoice = await gateway.voidInvoice(stripeInvoiceId, invoiceKeys(row.idempotencyKey).void);
    } catch (error) {
      // Voided already (a lost answer, the dashboard), or paid in the meantime?
      invoice = await gateway.retrieveInvoice(stripeInvoiceId);
      if (invoice.status !== "void" && invoice.status !== "paid") throw error;
    }
    const paid = invoice.status === "paid";
    await db.transaction(async (tx) => {
      const [after] = await tx
        .update(placementInvoices)
        .set(
          paid
            ? {
                status: "paid",
                paidAt: row.paidAt ?? now,
                leaseExpiresAt: null,
                lastError: null,
                updatedAt: now,
              }
            : { status: "void", voidedAt: now, leaseExpiresAt: null, lastError: null, updatedAt: now },
        )
        .where(and(eq(placementInvoices.id, row.id), notInArray(placementInvoices.status, ["void", "paid"])))
        .returning();
      if (!after) return;
      await recordAudit(tx, {
        actor,
        action: paid ? "placement_invoice.status_changed" : "placement_invoice.voided",
        entityType: "placement_invoice",
        entityId: row.id,
        before: { status: row.status },
        after,
        reason: paid
          ? "placement cancelled, but the client paid before the invoice could be voided"
          : "placement cancelled; invoice voided at Stripe",
      });
      if (paid) {
        const placement = await placementPayee(tx, row.placementId);
        await enqueueOutbox(tx, paidInvoiceAlert(row, placement, "placement cancelled"));
      }
    });
    return true;
  } catch (error) {
    await deferInvoiceAfterFailure(db, row.id, error, now);
    return false;
  }
}

async function placementPayee(tx: Db, placementId: string): Promise<string | null> {
  const [p] = await tx
    .select({ payeeId: placements.payeeId })
    .from(placements)
    .where(eq(placements.id, placementId));
  return p?.payeeId ?? null;
}

function paidInvoiceAlert(invoice: PlacementInvoice, payeeId: string | null, reason: string) {
  return {
    type: "alert.cancelled_placement_invoice_paid",
    destination: "slack" as const,
    aggregateType: "placement_invoice",
    aggregateId: invoice.id,
    dedupeKey: `cancelled_placement_invoice_paid:${invoice.id}`,
    payload: {
      text:
        `Placement ${invoice.placementId} was cancelled but its client already paid invoice ` +
        `${invoice.stripeInvoiceId ?? invoice.id} (${invoice.amountCents} ${invoice.currency} cents). ` +
        "Nothing was reversed automatically: decide on a refund or credit note by hand.",
      placementId: invoice.placementId,
      placementInvoiceId: invoice.id,
      stripeInvoiceId: invoice.stripeInvoiceId,
      payeeId,
      amountCents: invoice.amountCents,
      currency: invoice.currency,
      reason,
    },
  };
}
