import { eq } from "drizzle-orm";
import type Stripe from "stripe";
import type { Db } from "../../db/client";
import { type PlacementInvoiceStatus, placementInvoices } from "../../db/schema";
import { errorText } from "../observability/log";

/** How long a sweep holds an invoice row it is working on before another instance may take it. */
export const INVOICE_LEASE_MS = 10 * 60_000;
/** After a failed Stripe call the row waits this long before the next sweep tries again. */
export const INVOICE_RETRY_DELAY_MS = 15 * 60_000;
/**
 * Stripe keeps an idempotency key's result for 24 hours. A row first tried longer ago than this may
 * have a key Stripe has forgotten, so a missing Stripe id is looked up before it is created again.
 * (first_attempt_at is written before the first call, so the real first use is never earlier.)
 */
export const IDEMPOTENCY_KEY_SAFE_MS = 23 * 3600_000;
/** Net terms on placement invoices (collection_method send_invoice). */
export const INVOICE_DAYS_UNTIL_DUE = 30;

/** Stripe's invoice status as ours ("creating" and "payment_failed" are ours alone). */
export function invoiceStatusFromStripe(status: Stripe.Invoice.Status | null): PlacementInvoiceStatus {
  switch (status) {
    case "open":
      return "open";
    case "paid":
      return "paid";
    case "void":
      return "void";
    case "uncollectible":
      return "uncollectible";
    default:
      return "draft";
  }
}

/** Stripe idempotency keys for one invoice row, each derived from the row's stored key. */
export const invoiceKeys = (rowKey: string) => ({
  invoice: `${rowKey}:invoice`,
  item: `${rowKey}:item`,
  finalize: `${rowKey}:finalize`,
  send: `${rowKey}:send`,
  void: `${rowKey}:void`,
});

const errorMessage = (error: unknown) => errorText(error).slice(0, 1000);

/**
 * A Stripe call for an invoice row failed: keep the error and hold the row back until the retry
 * delay has passed. Not a dead end: the row keeps its keys and snapshots for the next sweep.
 */
export async function deferInvoiceAfterFailure(db: Db, invoiceId: string, error: unknown, now: Date): Promise<void> {
  await db
    .update(placementInvoices)
    .set({
      lastError: errorMessage(error),
      leaseExpiresAt: new Date(now.getTime() + INVOICE_RETRY_DELAY_MS),
      updatedAt: new Date(),
    })
    .where(eq(placementInvoices.id, invoiceId));
}
