import type Stripe from "stripe";
import { applyRefund, refundedCharge } from "../../earnings/refunds";
import { applied, type HandlerOf, ignored, pending } from "../types";
import { isDestinationCharge } from "./charge-destination";

// charge.refunded: post each refund of the charge in Stripe's numbers (lib/earnings/refunds.ts). The
// event carries the charge; its refunds, with the transfer reversal each made, are read from Stripe.
// Each refund posts once, whichever of charge.refunded and refund.created/updated comes first.
export const handleChargeRefunded: HandlerOf<"charge.refunded"> = async (tx, { event, actor, gateway, env }) => {
  const charge = refundedCharge(event.data.object);
  if (!(await isDestinationCharge(event.data.object, gateway))) return ignored;
  const refunds: Stripe.Refund[] = [];
  for (let startingAfter: string | undefined; ; ) {
    const page = await gateway().listRefunds({ charge: charge.id, startingAfter });
    refunds.push(...page.data);
    if (!page.has_more || page.data.length === 0) break;
    startingAfter = page.data.at(-1)!.id;
  }
  // Oldest first: the order Stripe made them.
  for (const refund of refunds.reverse()) {
    const result = await applyRefund(tx, { refund, charge, effectiveAt: new Date(refund.created * 1000) }, { actor, gateway, env });
    if (result.outcome === "unknown_earning") return pending(`no earning recorded for charge ${charge.id} yet`);
  }
  return applied;
};
