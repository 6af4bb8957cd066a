import type { PlacementInvoiceStatus } from "../../../db/schema";
import { applyInvoiceState } from "../invoices";
import { applied, type HandlerOf, eventTime, pending } from "../types";

type InvoiceEventType = "invoice.finalized" | "invoice.paid" | "invoice.payment_failed" | "invoice.voided";

/** invoice.* events share one shape: the placement invoice takes the status the event implies. */
export function invoiceStatusHandler(status: PlacementInvoiceStatus): HandlerOf<InvoiceEventType> {
  return async (tx, { event, actor }) => {
    const invoice = event.data.object;
    const result = await applyInvoiceState(
      tx,
      { stripeInvoiceId: invoice.id, status, occurredAt: eventTime(event), hostedInvoiceUrl: invoice.hosted_invoice_url },
      { actor },
    );
    // An invoice Payrun has not stored the id of yet (the sweep writes it after Stripe answers).
    if (result.outcome === "unknown_invoice") return pending(`invoice ${invoice.id} not known yet`);
    return applied;
  };
}
