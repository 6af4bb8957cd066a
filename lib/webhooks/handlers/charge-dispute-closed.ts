import { settleDispute } from "../../earnings/disputes";
import { applied, type EventHandler, eventTime, pending } from "../types";

// charge.dispute.closed: won releases the hold, lost settles it against the payee.
export const handleChargeDisputeClosed: EventHandler = async (tx, { event, actor }) => {
  const dispute = event.data.object as { id: string; status: string };
  const result = await settleDispute(
    tx,
    { disputeId: dispute.id, status: dispute.status, effectiveAt: eventTime(event) },
    { actor },
  );
  // The created event has not been applied yet (Stripe does not keep order).
  if (result.outcome === "unknown_dispute") return pending(`no hold for dispute ${dispute.id} yet`);
  return applied;
};
