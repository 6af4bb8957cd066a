import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";

/** The earning a charge or payment intent produced: who was credited, in what currency, on which account. */
export type EarningRef = {
  transactionId: string;
  payeeId: string;
  currency: string;
  paymentIntentId: string;
  chargeId: string | null;
  /** The connected account the charge paid (acct_...). */
  stripeAccountId: string;
};

export const earningKey = (paymentIntentId: string) => `earning:${paymentIntentId}`;

/**
 * Find the earning a charge produced. By the payment intent's idempotency key (unique index) when
 * the caller knows the intent: charges and disputes of payment intents carry it, and the earning is
 * keyed by it, so a miss there is final (no earning yet, or none at all). Only an object without a
 * payment intent falls back to the charge id in the earning's metadata; that query is served by the
 * expression index ((metadata->>'charge')) where kind = 'earning' (asked of the lead: see report).
 * Null: the payment_intent.succeeded event has not been applied yet, or the charge credited nobody.
 */
export async function findEarning(
  db: Db,
  ref: { paymentIntentId?: string | null; chargeId?: string | null },
): Promise<EarningRef | null> {
  const where = ref.paymentIntentId
    ? sql`idempotency_key = ${earningKey(ref.paymentIntentId)}`
    : ref.chargeId
      ? sql`kind = 'earning' and metadata->>'charge' = ${ref.chargeId}`
      : null;
  if (!where) return null;
  const [row] = await queryRows<{
    id: string;
    payee_id: string;
    currency: string;
    payment_intent: string;
    charge: string | null;
    stripe_account: string;
  }>(
    db,
    sql`select id, payee_id, metadata->>'currency' as currency, metadata->>'payment_intent' as payment_intent,
               metadata->>'charge' as charge, metadata->>'stripe_account' as stripe_account
        from ledger_transactions where ${where} limit 1`,
  );
  return row
    ? {
        transactionId: row.id,
        payeeId: row.payee_id,
        currency: row.currency,
        paymentIntentId: row.payment_intent,
        chargeId: row.charge,
        stripeAccountId: row.stripe_account,
      }
    : null;
}

/** Serialise work on one Stripe object inside the caller's transaction (e.g. refunds of one charge). */
export async function lockStripeObject(db: Db, objectId: string): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`stripe:${objectId}`}, 0))`);
}
