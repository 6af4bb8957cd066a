import type Stripe from "stripe";
import type { EventHandler, EventOf } from "../types";
import { handleAccountUpdated } from "./account-updated";
import { handleChargeDisputeClosed } from "./charge-dispute-closed";
import { handleChargeDisputeCreated } from "./charge-dispute-created";
import { handleApplicationFeeRefunded } from "./application-fee-refunded";
import { handleChargeRefunded } from "./charge-refunded";
import { handleDisputeFunds } from "./dispute-funds";
import { handleExternalAccountCreated, handleExternalAccountDeleted, handleExternalAccountUpdated } from "./external-account";
import { handleRefundChanged } from "./refund-changed";
import { handleInvoiceFinalized } from "./invoice-finalized";
import { handleInvoicePaid } from "./invoice-paid";
import { handleInvoicePaymentFailed } from "./invoice-payment-failed";
import { handleInvoiceVoided } from "./invoice-voided";
import { handlePaymentIntentSucceeded } from "./payment-intent-succeeded";
import { handlePayoutCanceled } from "./payout-canceled";
import { handlePayoutFailed } from "./payout-failed";
import { handlePayoutPaid } from "./payout-paid";
import { handleTransferReversed } from "./transfer-reversed";

// The allow-list: every type Payrun acts on, one handler file each, typed by its event. Anything
// else is stored as ignored.
const handlers = {
  "account.updated": handleAccountUpdated,
  "account.external_account.created": handleExternalAccountCreated,
  "account.external_account.updated": handleExternalAccountUpdated,
  "account.external_account.deleted": handleExternalAccountDeleted,
  "payment_intent.succeeded": handlePaymentIntentSucceeded,
  "charge.refunded": handleChargeRefunded,
  "refund.created": handleRefundChanged,
  "refund.updated": handleRefundChanged,
  "application_fee.refunded": handleApplicationFeeRefunded,
  "charge.dispute.funds_withdrawn": handleDisputeFunds,
  "charge.dispute.funds_reinstated": handleDisputeFunds,
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
} satisfies { [T in Stripe.Event.Type]?: EventHandler<EventOf<T>> };

/**
 * The handler of an event's type. The registry pairs each type with the handler of that type's
 * event, so handing it the event as the general union is sound.
 */
export function handlerFor(type: string): EventHandler | undefined {
  return Object.hasOwn(handlers, type) ? (handlers[type as keyof typeof handlers] as EventHandler) : undefined;
}

export function isHandledType(type: string): boolean {
  return Object.hasOwn(handlers, type);
}
