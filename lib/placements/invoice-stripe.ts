import { and, eq, isNull } from "drizzle-orm";
import type Stripe from "stripe";
import type { Db } from "../../db/client";
import { type PlacementInvoice, placementInvoices } from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import type { StripeGateway } from "../stripe/gateway";
import {
  deferInvoiceAfterFailure,
  IDEMPOTENCY_KEY_SAFE_MS,
  INVOICE_DAYS_UNTIL_DUE,
  invoiceKeys,
} from "./invoice-state";

/** A claimed `creating` row; the claim has filled the customer and description snapshots. */
export type InvoiceToCreate = PlacementInvoice & { clientStripeCustomerId: string; description: string };

/**
 * The Stripe calls for one row: the invoice, then its one item, each id stored in its own small
 * update the moment Stripe returns it, so a crash repeats at most the step whose answer was lost.
 * Parameters come only from the row's snapshots, so a retry sends exactly what the stored key was
 * first used with. Within 24 h the key makes a repeated step return the same object; a row first
 * tried longer ago than that (the key may be forgotten) looks the missing object up at Stripe first.
 */
export async function createStripeInvoice(
  db: Db,
  gateway: StripeGateway,
  row: InvoiceToCreate,
  actor: Actor,
  now: Date,
): Promise<boolean> {
  const keys = invoiceKeys(row.idempotencyKey);
  const metadata = { placement_id: row.placementId, placement_invoice_id: row.id };
  const firstAttemptAt = row.firstAttemptAt ?? now;
  const keyMayBeForgotten = now.getTime() - firstAttemptAt.getTime() >= IDEMPOTENCY_KEY_SAFE_MS;
  try {
    let stripeInvoiceId = row.stripeInvoiceId;
    if (!stripeInvoiceId) {
      const found = keyMayBeForgotten
        ? await findStripeInvoice(gateway, row.clientStripeCustomerId, row.id, firstAttemptAt)
        : null;
      stripeInvoiceId =
        found ??
        (
          await gateway.createInvoice({
            customer: row.clientStripeCustomerId,
            collectionMethod: "send_invoice",
            daysUntilDue: INVOICE_DAYS_UNTIL_DUE,
            description: row.description,
            metadata,
            idempotencyKey: keys.invoice,
          })
        ).id!;
      await db
        .update(placementInvoices)
        .set({ stripeInvoiceId, updatedAt: new Date() })
        .where(and(eq(placementInvoices.id, row.id), isNull(placementInvoices.stripeInvoiceId)));
    }

    let stripeInvoiceItemId = row.stripeInvoiceItemId;
    if (!stripeInvoiceItemId) {
      const found = keyMayBeForgotten ? await findStripeInvoiceItem(gateway, stripeInvoiceId, row.id) : null;
      stripeInvoiceItemId =
        found ??
        (
          await gateway.createInvoiceItem({
            customer: row.clientStripeCustomerId,
            amount: row.amountCents,
            currency: row.currency,
            description: row.description,
            invoice: stripeInvoiceId,
            metadata,
            idempotencyKey: keys.item,
          })
        ).id;
      await db
        .update(placementInvoices)
        .set({ stripeInvoiceItemId, updatedAt: new Date() })
        .where(and(eq(placementInvoices.id, row.id), isNull(placementInvoices.stripeInvoiceItemId)));
    }

    await db.transaction(async (tx) => {
      const [after] = await tx
        .update(placementInvoices)
        .set({ status: "draft", leaseExpiresAt: null, lastError: null, updatedAt: new Date() })
        .where(and(eq(placementInvoices.id, row.id), eq(placementInvoices.status, "creating")))
        .returning();
      if (after) {
        await recordAudit(tx, {
          actor,
          action: "placement_invoice.drafted",
          entityType: "placement_invoice",
          entityId: row.id,
          before: { status: "creating" },
          after,
          reason: "Stripe draft invoice with its invoice item created",
        });
      }
    });
    return true;
  } catch (error) {
    // Not a dead end: the row keeps its keys and snapshots; the next sweep after the delay tries again.
    await deferInvoiceAfterFailure(db, row.id, error, now);
    return false;
  }
}

/**
 * The customer's invoice made for this row, if an earlier attempt made one whose id was lost. Stripe
 * lists newest first; nothing created before the row's first attempt (less an hour for clock skew)
 * can be it, so the scan stops there.
 */
async function findStripeInvoice(
  gateway: StripeGateway,
  customer: string,
  placementInvoiceId: string,
  firstAttemptAt: Date,
): Promise<string | null> {
  const oldest = Math.floor(firstAttemptAt.getTime() / 1000) - 3600;
  let startingAfter: string | undefined;
  for (;;) {
    const page = await gateway.listInvoices({ customer, limit: 100, startingAfter });
    for (const invoice of page.data) {
      if (invoice.metadata?.placement_invoice_id === placementInvoiceId) return invoice.id!;
    }
    const last = page.data.at(-1);
    if (!page.has_more || !last || last.created < oldest) return null;
    startingAfter = last.id;
  }
}

/** The invoice item already on the invoice for this row, if an earlier attempt added one. */
async function findStripeInvoiceItem(
  gateway: StripeGateway,
  stripeInvoiceId: string,
  placementInvoiceId: string,
): Promise<string | null> {
  const invoice = await gateway.retrieveInvoice(stripeInvoiceId);
  // The invoice is made with pending items excluded, so its only lines are the ones this row added.
  for (const line of invoice.lines?.data ?? []) {
    const itemId = invoiceItemOf(line);
    if (itemId && line.metadata?.placement_invoice_id === placementInvoiceId) return itemId;
  }
  return null;
}

function invoiceItemOf(line: Stripe.InvoiceLineItem): string | null {
  const item = line.parent?.invoice_item_details?.invoice_item;
  return typeof item === "string" ? item : null;
}
