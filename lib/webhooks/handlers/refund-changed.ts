import { applyRefund, refundedCharge } from "../../earnings/refunds";
import { applied, eventTime, type HandlerOf, ignored, pending } from "../types";
import { isDestinationCharge } from "./charge-destination";

// refund.created / refund.updated: the refund in Stripe's numbers (its transfer reversal read from
// Stripe); a refund that failed or was cancelled gives back what it took. Posted once per refund,
// with charge.refunded (lib/earnings/refunds.ts).
export const handleRefundChanged: HandlerOf<"refund.created" | "refund.updated"> = async (tx, { event, actor, gateway, env }) => {
  const refundId = event.data.object.id;
  const chargeId = typeof event.data.object.charge === "string" ? event.data.object.charge : event.data.object.charge?.id;
  if (!chargeId) return ignored;
  const stripeCharge = await gateway().retrieveCharge(chargeId);
  if (!(await isDestinationCharge(stripeCharge, gateway))) return ignored;
  const refund = await gateway().retrieveRefund(refundId);
  const result = await applyRefund(tx, { refund, charge: refundedCharge(stripeCharge), effectiveAt: eventTime(event) }, { actor, gateway, env });
  if (result.outcome === "unknown_earning") return pending(`no earning recorded for charge ${chargeId} yet`);
  return applied;
};
