import { applyDisputeFunds } from "../../earnings/disputes";
import { applied, eventTime, type HandlerOf } from "../types";

// charge.dispute.funds_withdrawn / funds_reinstated: Stripe moved the dispute's money on the
// platform's balance; each of its balance transactions posts once (lib/earnings/disputes.ts).
export const handleDisputeFunds: HandlerOf<"charge.dispute.funds_withdrawn" | "charge.dispute.funds_reinstated"> = async (
  tx,
  { event },
) => {
  await applyDisputeFunds(tx, event.data.object, eventTime(event));
  return applied;
};
