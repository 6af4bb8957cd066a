import type Stripe from "stripe";
import {
  billingAuthorised,
  billingCaptured,
  billingChargeRefunded,
  billingInvoiceLifecycle,
  billingRefundChanged,
} from "./billing-invoices";
import type { EventHandler, EventOf, HandlerOutcome } from "../types";
import { handleAccountUpdated } from "./account-updated";
import { handleChargeDisputeClosed } from "./charge-dispute-closed";
import { handleChargeDisputeCreated } from "./charge-dispute-created";
import { handleApplicationFeeRefunded } from "./application-fee-refunded";
import { handleChargeRefunded } from "./charge-refunded";
import { handleClientPaymentFailed, handleClientSubscription } from "./client-billing";
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

/**
 * Two handlers of one event type, in one transaction: pending if either is (the event is tried
 * again, and both are idempotent), applied if either applied, else ignored.
 */
function alongside<A extends Stripe.Event, B extends Stripe.Event>(
  first: EventHandler<A>,
  second: EventHandler<B>,
): EventHandler<Extract<A, B>> {
  return async (tx, ctx) => {
    const outcomes: HandlerOutcome[] = [await first(tx, ctx), await second(tx, ctx)];
    return (
      outcomes.find((o) => o.outcome === "pending") ??
      outcomes.find((o) => o.outcome === "applied") ??
      outcomes[0]!
    );
  };
}

// The allow-list: every type Payrun acts on, one handler file each, typed by its event. Anything
// else is stored as ignored.
const handlers = {
  "account.updated": handleAccountUpdated,
  "account.external_account.created": handleExternalAccountCreated,
  "account.external_account.updated": handleExternalAccountUpdated,
  "account.external_account.deleted": handleExternalAccountDeleted,
  "payment_intent.succeeded": handlePaymentIntentSucceeded,
  "payment_intent.amount_capturable_updated": billingAuthorised,
  "charge.captured": billingCaptured,
  "charge.refunded": alongside(handleChargeRefunded, billingChargeRefunded),
  "refund.created": alongside(handleRefundChanged, billingRefundChanged),
  "refund.updated": alongside(handleRefundChanged, billingRefundChanged),
  "application_fee.refunded": handleApplicationFeeRefunded,
  "charge.dispute.funds_withdrawn": handleDisputeFunds,
  "charge.dispute.funds_reinstated": handleDisputeFunds,
  "charge.dispute.created": handleChargeDisputeCreated,
  "charge.dispute.closed": handleChargeDisputeClosed,
  "payout.paid": handlePayoutPaid,
  "payout.failed": handlePayoutFailed,
  "payout.canceled": handlePayoutCanceled,
  "transfer.reversed": handleTransferReversed,
  "invoice.created": billingInvoiceLifecycle,
  "invoice.finalized": alongside(handleInvoiceFinalized, billingInvoiceLifecycle),
  "invoice.paid": alongside(handleInvoicePaid, billingInvoiceLifecycle),
  "invoice.payment_failed": handleInvoicePaymentFailed,
  "invoice.voided": alongside(handleInvoiceVoided, billingInvoiceLifecycle),
  "customer.subscription.created": handleClientSubscription,
  "customer.subscription.updated": handleClientSubscription,
  "customer.subscription.deleted": handleClientSubscription,
  "payment_intent.payment_failed": handleClientPaymentFailed,
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
