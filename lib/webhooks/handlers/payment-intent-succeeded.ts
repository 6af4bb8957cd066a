import { creditDestinationCharge } from "../../earnings/credit";
import { applied, type HandlerOf, eventTime, expandableId, ignored, pending } from "../types";

// payment_intent.succeeded: a destination charge credits the payee who owns the destination account.
export const handlePaymentIntentSucceeded: HandlerOf<"payment_intent.succeeded"> = async (tx, { event, actor, env }) => {
  const intent = event.data.object;
  const destination = expandableId(intent.transfer_data?.destination);
  if (!destination) return ignored; // not a destination charge: nothing of a payee's in it
  const result = await creditDestinationCharge(
    tx,
    {
      paymentIntentId: intent.id,
      chargeId: expandableId(intent.latest_charge),
      stripeAccountId: destination,
      amountReceivedCents: intent.amount_received ?? 0,
      applicationFeeCents: intent.application_fee_amount ?? 0,
      transferAmountCents: intent.transfer_data?.amount ?? null,
      currency: intent.currency,
      effectiveAt: eventTime(event),
    },
    { actor, reservePercent: env.PAYOUT_RESERVE_PERCENT, reserveDays: env.PAYOUT_RESERVE_DAYS },
  );
  if (result.outcome === "unknown_account") return pending(`connected account ${destination} not known yet`);
  if (result.outcome === "nothing_received") return ignored;
  return applied;
};
