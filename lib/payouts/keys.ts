/** Ledger postings, Stripe writes, and the Slack alert a failure sends (`failed`). */
export type PayoutStep = "planned" | "transfer" | "payout" | "paid" | "reversed" | "failed";

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
