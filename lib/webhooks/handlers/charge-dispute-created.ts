import { holdDisputedAmount } from "../../earnings/disputes";
import { applied, type HandlerOf, eventTime, expandableId, ignored, pending } from "../types";
import { isDestinationCharge } from "./charge-destination";

// charge.dispute.created: hold the disputed amount while the dispute is open.
export const handleChargeDisputeCreated: HandlerOf<"charge.dispute.created"> = async (tx, { event, actor, gateway }) => {
  const dispute = event.data.object;
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
  if (result.outcome === "unknown_earning") {
    // Not a destination charge (e.g. a placement invoice's payment): ops handle it (charge-destination.ts).
    if (!(await isDestinationCharge(dispute.charge, gateway))) return ignored;
    return pending(`no earning recorded for dispute ${dispute.id}'s charge yet`);
  }
  return applied;
};
