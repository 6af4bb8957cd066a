import { holdDisputedAmount } from "../../earnings/disputes";
import { applied, type EventHandler, eventTime, expandableId, pending } from "../types";

// charge.dispute.created: hold the disputed amount while the dispute is open.
export const handleChargeDisputeCreated: EventHandler = async (tx, { event, actor }) => {
  const dispute = event.data.object as { id: string; amount: number; charge?: unknown; payment_intent?: unknown };
  const result = await holdDisputedAmount(
    tx,
    {
      disputeId: dispute.id,
      chargeId: expandableId(dispute.charge),
      paymentIntentId: expandableId(dispute.payment_intent),
      amountCents: dispute.amount,
      effectiveAt: eventTime(event),
    },
    { actor },
  );
  if (result.outcome === "unknown_earning") return pending(`no earning recorded for dispute ${dispute.id}'s charge yet`);
  return applied;
};
