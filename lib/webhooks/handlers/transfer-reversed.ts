import { applyTransferReversed } from "../../payouts/settle";
import { applied, type HandlerOf, eventTime, pending } from "../types";

// transfer.reversed: money a payout transferred to a connected account came back to the platform.
export const handleTransferReversed: HandlerOf<"transfer.reversed"> = async (tx, { event }) => {
  const transfer = event.data.object;
  const result = await applyTransferReversed(tx, {
    stripeTransferId: transfer.id,
    amountReversed: transfer.amount_reversed ?? 0,
    currency: transfer.currency,
    eventId: event.id,
    occurredAt: eventTime(event),
  });
  if (result.result === "unknown_transfer") return pending(`transfer ${transfer.id} not known yet`);
  return applied;
};
