import { settleDispute } from "../../earnings/disputes";
import { findEarning } from "../../earnings/lookup";
import { applied, type HandlerOf, eventTime, expandableId, ignored, pending } from "../types";
import { isDestinationCharge } from "./charge-destination";

// charge.dispute.closed: won releases the hold, lost settles it against the payee.
export const handleChargeDisputeClosed: HandlerOf<"charge.dispute.closed"> = async (tx, { event, actor, gateway, env }) => {
  const dispute = event.data.object;
  const result = await settleDispute(
    tx,
    { disputeId: dispute.id, status: dispute.status, chargeId: expandableId(dispute.charge), effectiveAt: eventTime(event) },
    { actor, gateway, env },
  );
  if (result.outcome === "unknown_dispute") {
    // No hold: either the created event has not been applied yet (Stripe does not keep order), or
    // the charge credited no payee, so created was ignored and so is this (charge-destination.ts).
    const earning = await findEarning(tx, {
      paymentIntentId: expandableId(dispute.payment_intent),
      chargeId: expandableId(dispute.charge),
    });
    if (!earning && !(await isDestinationCharge(dispute.charge, gateway))) return ignored;
    return pending(`no hold for dispute ${dispute.id} yet`);
  }
  return applied;
};
