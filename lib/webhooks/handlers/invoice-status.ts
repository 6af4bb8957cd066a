import type { PlacementInvoiceStatus } from "../../../db/schema";
import { applyClientBillingEvent } from "../../billing/clients";
import { applyInvoiceState } from "../invoices";
import { applied, expandableId, type HandlerOf, eventTime, pending } from "../types";

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
    if (result.outcome === "unknown_invoice") {
      // A client's subscription invoice (lib/billing): the client's latest invoice and its state.
      if (invoice.parent?.type === "subscription_details") {
        await applyClientBillingEvent(tx, { customer: expandableId(invoice.customer), invoiceId: invoice.id, invoiceStatus: status, occurredAt: eventTime(event) });
        return applied;
      }
      // An invoice Payrun has not stored the id of yet (the sweep writes it after Stripe answers).
      return pending(`invoice ${invoice.id} not known yet`);
    }
    return applied;
  };
}
