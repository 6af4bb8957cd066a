import type Stripe from "stripe";
import { applyFeeRefunds } from "../../earnings/fee-refunds";
import { applied, eventTime, type HandlerOf, pending } from "../types";

// application_fee.refunded: the platform gave (part of) its fee back to the connected account. Each
// fee refund (fr_) posts once, in Stripe's amount (lib/earnings/fee-refunds.ts); the refunds are read
// from Stripe, since the event's list may be cut short.
export const handleApplicationFeeRefunded: HandlerOf<"application_fee.refunded"> = async (tx, { event, actor, gateway }) => {
  const fee = event.data.object;
  const refunds: Stripe.FeeRefund[] = [];
  for (let startingAfter: string | undefined; ; ) {
    const page = await gateway().listApplicationFeeRefunds(fee.id, startingAfter);
    refunds.push(...page.data);
    if (!page.has_more || page.data.length === 0) break;
    startingAfter = page.data.at(-1)!.id;
  }
  const result = await applyFeeRefunds(tx, { fee, refunds: refunds.reverse(), effectiveAt: eventTime(event) }, { actor });
  if (result.outcome === "unknown_account") return pending(`connected account of fee ${fee.id} not known yet`);
  return applied;
};
