import { takeBackRefund } from "../../earnings/refunds";
import { applied, type EventHandler, eventTime, expandableId, pending } from "../types";

// charge.refunded: take the refunded amount back from the payee the charge credited.
export const handleChargeRefunded: EventHandler = async (tx, { event, actor }) => {
  const charge = event.data.object as { id: string; amount_refunded?: number; payment_intent?: unknown };
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
  if (result.outcome === "unknown_earning") return pending(`no earning recorded for charge ${charge.id} yet`);
  return applied;
};
