import { type SQL, sql } from "drizzle-orm";

/**
 * Ledger postings, Stripe writes, and the Slack alert a failure sends (`failed`): planned
 * (available -> in transit), transfer and payout (Stripe writes), sent (the Stripe payout took the
 * money to the bank), paid, reversed.
 */
export type PayoutStep =
  | "planned"
  | "transfer"
  | "payout"
  | "sent"
  | "paid"
  | "reversed"
  | "failed"
  // an instant payout's account debit of its fee (Stripe write) and the fee's return on failure
  | "fee"
  | "fee_returned";

/**
 * The idempotency key of one step of a payout, for our ledger postings, Stripe writes and alerts.
 * A retried payout is a new generation: its keys carry the retry number, so a second failure is
 * reversed and alerted again (not swallowed as a replay of the first failure) and the new Stripe
 * payout is really sent (not answered from Stripe's cache of the failed one).
 */
export function payoutKey(payout: { id: string; retries: number }, step: PayoutStep): string {
  const base = `payout:${payout.id}:${step}`;
  return payout.retries > 0 ? `${base}:retry${payout.retries}` : base;
}

/** The same key computed in SQL, for set-based statements (planning, claims); `payoutKey` in SQL form. */
export function payoutKeySql(payout: { id: SQL; retries: SQL }, step: PayoutStep): SQL {
  return sql`('payout:' || ${payout.id} || ':' || ${step}::text
              || case when ${payout.retries} > 0 then ':retry' || ${payout.retries} else '' end)`;
}

/**
 * The posting of one transfer's money reaching the connected account, and of the platform taking
 * back part of it (Stripe's cumulative amount reversed). Keyed by the transfer, not the payout's
 * generation: a retried payout keeps the transfer it already made, and a new transfer (after a
 * reversal) is a new posting.
 */
export function transferPostingKey(payoutId: string, stripeTransferId: string, reversedTotalCents?: number): string {
  const base = `payout:${payoutId}:transferred:${stripeTransferId}`;
  return reversedTotalCents === undefined ? base : `${base}:reversed:${reversedTotalCents}`;
}
