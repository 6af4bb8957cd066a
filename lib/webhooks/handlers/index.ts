import type { EventHandler } from "../types";
import { handleAccountUpdated } from "./account-updated";
import { handleChargeDisputeClosed } from "./charge-dispute-closed";
import { handleChargeDisputeCreated } from "./charge-dispute-created";
import { handleChargeRefunded } from "./charge-refunded";
import { handleInvoiceFinalized } from "./invoice-finalized";
import { handleInvoicePaid } from "./invoice-paid";
import { handleInvoicePaymentFailed } from "./invoice-payment-failed";
import { handleInvoiceVoided } from "./invoice-voided";
import { handlePaymentIntentSucceeded } from "./payment-intent-succeeded";
import { handlePayoutCanceled } from "./payout-canceled";
import { handlePayoutFailed } from "./payout-failed";
import { handlePayoutPaid } from "./payout-paid";
import { handleTransferReversed } from "./transfer-reversed";

// The allow-list: every type Payrun acts on, one handler file each. Anything else is stored as ignored.
const handlers: Record<string, EventHandler> = {
  "account.updated": handleAccountUpdated,
  "payment_intent.succeeded": handlePaymentIntentSucceeded,
  "charge.refunded": handleChargeRefunded,
  "charge.dispute.created": handleChargeDisputeCreated,
  "charge.dispute.closed": handleChargeDisputeClosed,
  "payout.paid": handlePayoutPaid,
  "payout.failed": handlePayoutFailed,
  "payout.canceled": handlePayoutCanceled,
  "transfer.reversed": handleTransferReversed,
  "invoice.finalized": handleInvoiceFinalized,
  "invoice.paid": handleInvoicePaid,
  "invoice.payment_failed": handleInvoicePaymentFailed,
  "invoice.voided": handleInvoiceVoided,
};

export function handlerFor(type: string): EventHandler | undefined {
  return Object.hasOwn(handlers, type) ? handlers[type] : undefined;
}

export function isHandledType(type: string): boolean {
  return Object.hasOwn(handlers, type);
}
