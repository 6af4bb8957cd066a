import type Stripe from "stripe";
import type { PlacementInvoiceStatus } from "../../db/schema";

/** How long a sweep holds an invoice row it is working on before another instance may take it. */
export const INVOICE_LEASE_MS = 10 * 60_000;
/** After a failed Stripe call the row waits this long before the next sweep tries again. */
export const INVOICE_RETRY_DELAY_MS = 15 * 60_000;
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
});

export const errorMessage = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).slice(0, 1000);
