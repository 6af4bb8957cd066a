import { findEarning } from "../../earnings/lookup";
import { postChargeReversal } from "../../earnings/recovery";
import { applyTransferReversed } from "../../payouts/settle";
import { applied, eventTime, expandableId, type HandlerOf, pending } from "../types";

// transfer.reversed: money a transfer moved to a connected account came back to the platform.
// A payout's transfer: the payout records it (lib/payouts/settle.ts). A destination charge's
// transfer: each reversal that came with no refund (a recovery, or one made by hand) posts once in
// Stripe's amount; those made with a refund are posted with that refund (lib/earnings/refunds.ts).
export const handleTransferReversed: HandlerOf<"transfer.reversed"> = async (tx, { event, gateway }) => {
  const transfer = event.data.object;
  const result = await applyTransferReversed(tx, {
    stripeTransferId: transfer.id,
    amountReversed: transfer.amount_reversed ?? 0,
    currency: transfer.currency,
    eventId: event.id,
    occurredAt: eventTime(event),
  });
  if (result.result !== "unknown_transfer") return applied;
  const chargeId = expandableId(transfer.source_transaction);
  // A payout's transfer the run has not stored yet: the replay sweep applies it once it has.
  if (!chargeId) return pending(`transfer ${transfer.id} not known yet`);
  const earning = await findEarning(tx, { chargeId });
  if (!earning) return pending(`no earning recorded for charge ${chargeId} yet`);
  for (let startingAfter: string | undefined; ; ) {
    const page = await gateway().listTransferReversals(transfer.id, startingAfter);
    for (const reversal of page.data) {
      if (reversal.source_refund) continue;
      await postChargeReversal(tx, { earning, reversal, effectiveAt: new Date(reversal.created * 1000), reason: "transfer reversed" });
    }
    if (!page.has_more || page.data.length === 0) break;
    startingAfter = page.data.at(-1)!.id;
  }
  return applied;
};
