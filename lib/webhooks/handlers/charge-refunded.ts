import { takeBackRefund } from "../../earnings/refunds";
import { applied, type HandlerOf, eventTime, expandableId, ignored, pending } from "../types";
import { isDestinationCharge } from "./charge-destination";

// charge.refunded: take the refunded amount back from the payee the charge credited.
// Known gap: a refund that later fails (charge.refund.updated, status "failed", amount_refunded
// going down) is not credited back; ops correct it with an adjustment. Handling it needs the
// cumulative-total bookkeeping in takeBackRefund to accept decreases keyed by the refund id, and an
// older charge.refunded arriving after the failure must not take the money again.
export const handleChargeRefunded: HandlerOf<"charge.refunded"> = async (tx, { event, actor, gateway }) => {
  const charge = event.data.object;
  const result = await takeBackRefund(
    tx,
    {
      chargeId: charge.id,
      paymentIntentId: expandableId(charge.payment_intent),
      amountRefundedTotalCents: charge.amount_refunded ?? 0,
      effectiveAt: eventTime(event),
    },
    { actor },
  );
  if (result.outcome === "unknown_earning") {
    // Not a destination charge: no payee was credited, nothing to take back (see charge-destination.ts).
    if (!(await isDestinationCharge(charge, gateway))) return ignored;
    return pending(`no earning recorded for charge ${charge.id} yet`);
  }
  return applied;
};
