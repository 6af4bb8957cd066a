import { applyClientBillingEvent, applySubscriptionEvent } from "../../billing/clients";
import { applied, eventTime, expandableId, type HandlerOf, ignored } from "../types";

// Clients (lib/billing/clients.ts) kept in step with Stripe: their subscription's status, period and
// cancellation, and their latest failed payment.

/** customer.subscription.created / updated / deleted: the client takes Stripe's state. */
export const handleClientSubscription: HandlerOf<
  "customer.subscription.created" | "customer.subscription.updated" | "customer.subscription.deleted"
> = async (tx, { event, actor }) => {
  const outcome = await applySubscriptionEvent(tx, event.data.object, {
    occurredAt: eventTime(event),
    actor,
  });
  return outcome === "applied" ? applied : ignored;
};

/** payment_intent.payment_failed on a client's customer: why its payment failed, for the ops page. */
export const handleClientPaymentFailed: HandlerOf<"payment_intent.payment_failed"> = async (
  tx,
  { event },
) => {
  const intent = event.data.object;
  const error = intent.last_payment_error;
  const outcome = await applyClientBillingEvent(tx, {
    customer: expandableId(intent.customer),
    paymentError: error
      ? `${error.code ?? error.type}${error.decline_code ? `/${error.decline_code}` : ""}`
      : "payment failed",
    occurredAt: eventTime(event),
  });
  return outcome === "applied" ? applied : ignored;
};
