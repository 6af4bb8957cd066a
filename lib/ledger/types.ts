import type { FundsLocation, PayeeAccountKind, PlatformAccountKind } from "../../db/schema";

/**
 * A payee's bucket at a location (where the money physically is: the platform's Stripe balance,
 * the payee's connected account, or the bank; by default the platform, and the bank for `paid`),
 * or a platform account, in the posting's currency.
 */
export type AccountRef =
  | { payeeId: string; kind: PayeeAccountKind; location?: FundsLocation }
  | { payeeId?: null; kind: PlatformAccountKind; location?: undefined };

export type PostingLine = AccountRef & {
  /** Signed cents: positive adds to the account's balance, negative takes from it. */
  amount: number;
};

export type PostingInput = {
  /** Posting the same key twice returns the first transaction and writes nothing. */
  idempotencyKey: string;
  /** Machine-readable: earning, payout_planned, payout_paid, payout_reversed, refund, hold, ... */
  kind: string;
  description: string;
  currency: string;
  lines: PostingLine[];
  payeeId?: string | null;
  sourceType?: string | null;
  sourceId?: string | null;
  metadata?: Record<string, unknown>;
  /** When the money moved (defaults to now); balance-at-cutoff reads this. */
  effectiveAt?: Date;
  /**
   * Refunds and lost disputes may take a payee's available balance below zero (the payee owes);
   * everything else is refused when a payee account would go negative.
   */
  allowNegative?: boolean;
  /** What Stripe's balances should show for this posting (reconciliation). */
  stripeRefs?: StripeRef[];
};

export type PostingResult = { transactionId: string; idempotencyKey: string; created: boolean };

/**
 * The net change a posting expects on one Stripe account's balance through one Stripe object, in
 * the posting's currency, for reconciliation (see ledger_stripe_refs in db/schema/ledger.ts).
 */
export type StripeRef = {
  /** "platform", or the connected account (acct_...) */
  account: string;
  /** The primary object: a charge, transfer, payout, refund, fee refund, transfer reversal, dispute, invoice. */
  object: string;
  /** Signed cents: what the account's balance transactions for this object add up to. */
  amount: number;
};
