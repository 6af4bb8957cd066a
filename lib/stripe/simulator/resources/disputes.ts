import { invalidRequest } from "../errors";
import { stripeFeeDetails } from "../money";
import { LIST_PARAMS, listResponse, pathParam, type Route } from "../router";
import type { SimulatorState } from "../state";
import type { StoredObject } from "../types";

// Disputes as Stripe's Connect docs describe them for destination charges ("Disputes and fraud"):
// the platform's balance is debited the disputed amount plus the dispute fee; nothing happens to
// the connected account automatically (the platform may reverse the transfer itself). Won: the
// amount comes back; the dispute fee does not.

const DAY = 86_400;
/** Stripe's dispute fee in the US, in cents. */
export const DISPUTE_FEE_CENTS = 1500;

/** A cardholder disputes a charge: Stripe withdraws the amount plus the dispute fee from the platform. */
export function createDispute(
  state: SimulatorState,
  chargeId: string,
  input: { amount?: number; reason?: string } = {},
): StoredObject {
  const platform = state.platformAccountId;
  const charge = state.find("charge", chargeId, platform, "charge");
  const amount = input.amount ?? Number(charge.amount) - Number(charge.amount_refunded);
  const currency = String(charge.currency);
  const dispute = state.build("dispute", "dp");
  const withdrawal = state.recordBalanceTransaction({
    owner: platform,
    amount: -amount,
    feeDetails: stripeFeeDetails(DISPUTE_FEE_CENTS, currency, "Dispute fee"),
    currency,
    type: "adjustment",
    reportingCategory: "dispute",
    source: dispute.id,
    description: `Chargeback withdrawal for ${charge.id}`,
  });
  Object.assign(dispute, {
    amount,
    balance_transactions: [withdrawal],
    charge: charge.id,
    currency,
    evidence_details: {
      due_by: state.now() + 7 * DAY,
      has_evidence: false,
      past_due: false,
      submission_count: 0,
      enhanced_eligibility: {},
    },
    is_charge_refundable: false,
    payment_intent: charge.payment_intent ?? null,
    reason: input.reason ?? "fraudulent",
    status: "needs_response",
  });
  state.store("dispute", platform, dispute);
  charge.disputed = true;
  state.emit("charge.dispute.created", dispute, platform);
  state.emit("charge.dispute.funds_withdrawn", dispute, platform);
  return dispute;
}

/** Ends a dispute: `lost` (closing it yourself is accepting it) or `won` (the amount comes back). */
export function resolveDispute(
  state: SimulatorState,
  disputeId: string,
  outcome: "won" | "lost",
): StoredObject {
  const platform = state.platformAccountId;
  const dispute = state.find("dispute", disputeId, platform, "dispute");
  if (dispute.status === "won" || dispute.status === "lost")
    throw invalidRequest("This dispute is already closed.", "dispute_already_closed");
  const previous = { status: dispute.status };
  dispute.status = outcome;
  if (outcome === "won") {
    const reinstated = state.recordBalanceTransaction({
      owner: platform,
      amount: Number(dispute.amount),
      currency: String(dispute.currency),
      type: "adjustment",
      reportingCategory: "dispute_reversal",
      source: dispute.id,
      description: `Chargeback reversal for ${String(dispute.charge)}`,
    });
    const transactions = Array.isArray(dispute.balance_transactions) ? dispute.balance_transactions : [];
    dispute.balance_transactions = [...transactions, reinstated];
    state.emit("charge.dispute.funds_reinstated", dispute, platform);
  }
  state.emit("charge.dispute.closed", dispute, platform, previous);
  return dispute;
}

export const disputeRoutes: Route[] = [
  {
    method: "GET",
    pattern: "/v1/disputes",
    allowedParams: [...LIST_PARAMS, "charge", "payment_intent", "created"],
    handle: (ctx) => listResponse(ctx, ctx.state.collection(`dispute:${ctx.account}`), "/v1/disputes"),
  },
  {
    method: "GET",
    pattern: "/v1/disputes/:id",
    allowedParams: [],
    handle: (ctx) => ctx.state.find("dispute", pathParam(ctx, "id"), ctx.account),
  },
  {
    method: "POST",
    pattern: "/v1/disputes/:id/close",
    allowedParams: [],
    handle: (ctx) =>
      resolveDispute(ctx.state, ctx.state.find("dispute", pathParam(ctx, "id"), ctx.account).id, "lost"),
  },
];
