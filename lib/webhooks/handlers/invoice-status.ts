import type { PlacementInvoiceStatus } from "../../../db/schema";
import { applyInvoiceState } from "../invoices";
import { applied, type EventHandler, eventTime, pending } from "../types";

/** invoice.* events share one shape: the placement invoice takes the status the event implies. */
export function invoiceStatusHandler(status: PlacementInvoiceStatus): EventHandler {
  return async (tx, { event, actor }) => {
    const invoice = event.data.object as { id: string; hosted_invoice_url?: string | null };
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
