import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";

/** The earning a charge or payment intent produced: who was credited, in what currency. */
export type EarningRef = { transactionId: string; payeeId: string; currency: string; paymentIntentId: string };

export const earningKey = (paymentIntentId: string) => `earning:${paymentIntentId}`;

/**
 * Find the earning by its payment intent (the idempotency key) or, when only the charge is known,
 * by the charge id recorded in its metadata. Null: the payment_intent.succeeded event has not been
 * applied yet, so the caller leaves its event pending.
 */
export async function findEarning(
  db: Db,
  ref: { paymentIntentId?: string | null; chargeId?: string | null },
): Promise<EarningRef | null> {
  const byIntent = ref.paymentIntentId ? sql`idempotency_key = ${earningKey(ref.paymentIntentId)}` : sql`false`;
  const byCharge = ref.chargeId ? sql`(kind = 'earning' and metadata->>'charge' = ${ref.chargeId})` : sql`false`;
  const [row] = await queryRows<{ id: string; payee_id: string; currency: string; payment_intent: string }>(
    db,
    sql`select id, payee_id, metadata->>'currency' as currency, metadata->>'payment_intent' as payment_intent
        from ledger_transactions where ${byIntent} or ${byCharge} limit 1`,
  );
  return row
    ? { transactionId: row.id, payeeId: row.payee_id, currency: row.currency, paymentIntentId: row.payment_intent }
    : null;
}

/** Serialise work on one Stripe object inside the caller's transaction (e.g. refunds of one charge). */
export async function lockStripeObject(db: Db, objectId: string): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`stripe:${objectId}`}, 0))`);
}
