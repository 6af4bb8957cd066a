// What a ledger transaction means to the payee whose money it moved, in their words. The
// transaction's own description ("payout planned: available -> in transit", "Destination charge
// pi_…") is for ops and the audit trail; the payee dashboard shows this instead.

/** Bookkeeping with no meaning for a payee (no money came or went): left out of their history. */
export const KINDS_HIDDEN_FROM_PAYEES = ["funds_location_opening"] as const;

const HOLD_TEXT: Record<string, string> = {
  rolling_reserve: "Reserve held back from a payment",
  placement_escrow: "Held until the placement's guarantee period ends",
  dispute: "Held while a customer disputes a payment",
  manual: "Held by the platform",
};

const RELEASE_TEXT: Record<string, string> = {
  rolling_reserve: "Reserve released to your balance",
  placement_escrow: "Placement hold released to your balance",
  dispute: "Dispute won: the held amount is yours again",
  manual: "Hold released to your balance",
};

const KIND_TEXT: Record<string, string> = {
  earning: "Payment received",
  placement_share: "Your share of a placement fee",
  refund: "Refund to your customer",
  dispute_lost: "Dispute lost: the amount went back to the customer",
  adjustment: "Adjustment by the platform",
  payout_planned: "Payout started",
  payout_transferred: "Moved to your Stripe account",
  payout_sent: "Sent to your bank",
  payout_paid: "Paid to your bank",
  payout_reversed: "Payout failed: the money is back in your balance",
  transfer_reversed: "Transfer reversed: the platform took it back from your Stripe account",
  instant_fee_collected: "Instant payout fee",
  instant_fee_returned: "Instant payout failed: the fee is back in your balance",
};

/**
 * The payee's line for a ledger transaction of `kind`. `holdKind` and `outcome` come from a hold's
 * postings (metadata `kind`, `outcome`). An unknown kind reads as a generic change rather than as
 * its internal name.
 */
export function payeeLedgerText(kind: string, details: { holdKind?: string | null; outcome?: string | null } = {}): string {
  if (kind === "hold") return HOLD_TEXT[details.holdKind ?? ""] ?? "Held from your balance";
  if (kind === "hold_release") {
    if (details.outcome === "dispute_won") return RELEASE_TEXT.dispute!;
    if (details.outcome === "cancelled") return "Hold lifted: the amount is back in your balance";
    return RELEASE_TEXT[details.holdKind ?? ""] ?? "Released to your balance";
  }
  return KIND_TEXT[kind] ?? "Balance change";
}
