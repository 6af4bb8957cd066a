import { applyPayoutEvent } from "../../payouts/settle";
import { applied, type HandlerOf, eventTime, pending } from "../types";

/** payout.paid / payout.failed / payout.canceled share one shape: the payout engineer's settle. */
export function payoutOutcomeHandler(
  outcome: "paid" | "failed" | "canceled",
): HandlerOf<"payout.paid" | "payout.failed" | "payout.canceled"> {
  return async (tx, { event }) => {
    const payout = event.data.object;
    const result = await applyPayoutEvent(tx, {
      outcome,
      stripePayoutId: payout.id,
      payoutId: payout.metadata?.payout_id,
      failureCode: payout.failure_code ?? null,
      failureMessage: payout.failure_message ?? null,
      eventId: event.id,
      occurredAt: eventTime(event),
      arrivalDate: payout.arrival_date ? new Date(payout.arrival_date * 1000) : null,
    });
    // The run may not have stored the po_ id yet: the replay sweep applies it once it has.
    if (result.result === "unknown_payout") return pending(`payout ${payout.id} not known yet`);
    return applied;
  };
}
