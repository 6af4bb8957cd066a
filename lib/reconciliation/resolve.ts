import type Stripe from "stripe";

// Which object a balance transaction belongs to, as the ledger references it (ledger_stripe_refs):
// a destination charge is one object on both accounts (its charge, transfer, application fee and
// the connected account's payment all resolve to the charge); a refund and the transfer reversal it
// made are the refund; a payout's transfer and its reversals are the transfer; a payout and its
// failure are the payout. Everything a balance transaction names is read from its `source`,
// expanded (EXPANSIONS) when listed, so resolving needs no further call.

/** What the list call expands so that each transaction's object can be resolved from the page. */
export const EXPANSIONS = [
  "data.source",
  "data.source.source_transfer",
  "data.source.source_transfer_reversal",
];

export type ResolvedTransaction = {
  primaryObject: string;
  /** payrun: money Payrun's postings mirror; platform_own: the platform's own top-ups and payouts. */
  scope: "payrun" | "platform_own";
  source: string | null;
  /** The transfer a reversal reversed, when it came with no refund (a payout's, or a charge's). */
  reversedTransfer: string | null;
};

const idOf = (value: unknown): string | null =>
  typeof value === "string"
    ? value
    : value && typeof value === "object" && "id" in value
      ? String((value as { id: unknown }).id)
      : null;

const field = (source: unknown, name: string): unknown =>
  source && typeof source === "object" ? (source as Record<string, unknown>)[name] : undefined;

/**
 * The primary object of one balance transaction on `account` ("platform" or acct_). A transaction
 * with nothing Payrun references (an adjustment from nowhere, a Stripe fee) resolves to itself: it
 * can only be a break. `invoice` is the invoice a charge paid, when the caller looked it up.
 */
export function resolveTransaction(
  bt: Stripe.BalanceTransaction,
  account: string,
  invoice?: string,
): ResolvedTransaction {
  const source = bt.source;
  const sourceId = idOf(source);
  const base = { source: sourceId, reversedTransfer: null as string | null };
  // The platform's own money movements: how it funds its balance and pays itself out.
  if (
    account === "platform" &&
    (bt.type === "topup" ||
      bt.type === "topup_reversal" ||
      bt.type === "payout" ||
      bt.type === "payout_failure" ||
      bt.type === "payout_cancel")
  )
    return { ...base, primaryObject: sourceId ?? bt.id, scope: "platform_own" };
  const payrun = (
    primaryObject: string | null,
    reversedTransfer: string | null = null,
  ): ResolvedTransaction => ({
    ...base,
    primaryObject: primaryObject ?? bt.id,
    scope: "payrun",
    reversedTransfer,
  });
  switch (bt.type) {
    case "charge":
      // A client's invoice payment is the invoice; a destination charge is the charge.
      return payrun(invoice ?? idOf(field(source, "invoice")) ?? sourceId);
    case "transfer":
      return payrun(idOf(field(source, "source_transaction")) ?? sourceId);
    case "application_fee":
      return payrun(idOf(field(source, "originating_transaction")) ?? sourceId);
    case "transfer_refund":
      // A reversal made with a refund is that refund; one made alone is resolved by its transfer.
      return idOf(field(source, "source_refund"))
        ? payrun(idOf(field(source, "source_refund")))
        : payrun(sourceId, idOf(field(source, "transfer")));
    case "payment": {
      // The connected account's side of a transfer: a destination charge's, or a payout's own.
      const transfer = field(source, "source_transfer");
      return payrun(idOf(field(transfer, "source_transaction")) ?? idOf(transfer) ?? sourceId);
    }
    case "payment_refund": {
      const reversal = field(source, "source_transfer_reversal");
      const refund = idOf(field(reversal, "source_refund"));
      return refund ? payrun(refund) : payrun(idOf(reversal) ?? sourceId, idOf(field(reversal, "transfer")));
    }
    default:
      // refund (re_), application_fee_refund and its adjustment (fr_), payout and its failure (po_),
      // a dispute's adjustments (dp_): the source itself.
      return payrun(sourceId);
  }
}
