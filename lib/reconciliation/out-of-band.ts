import { and, eq, isNull, sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { connectedAccounts, type Payout, payouts } from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import { DomainError, notFound } from "../errors";
import { addStripeRefs, postLedgerTransaction } from "../ledger";

export type OutOfBandPayoutInput = {
  payeeId: string;
  amountCents: number;
  currency: string;
  /** The Stripe payout made by hand (po_...), if ops know it; reconciliation finds it otherwise. */
  stripePayoutId?: string | null;
  reason: string;
  /** The caller's Idempotency-Key: the same request twice records one payout. */
  requestKey: string;
  actor: Actor;
};

const postingKey = (payoutId: string) => `payout:${payoutId}:out_of_band`;

/**
 * Record a payout ops made by hand at Stripe while Payrun was down (the runbook's emergency): a
 * payout row (origin out_of_band, already paid), the ledger moving the amount from the payee's
 * available balance on their connected account to paid (the money has left: the payee may owe it
 * if the ledger held less), and an audit row, once per request key. Reconciliation links it to the
 * Stripe payout when that appears, if its id was not given.
 */
export async function recordOutOfBandPayout(db: Db, input: OutOfBandPayoutInput): Promise<{ payout: Payout; created: boolean }> {
  return db.transaction(async (tx) => {
    const [existing] = await tx.select().from(payouts).where(eq(payouts.requestKey, input.requestKey));
    if (existing) {
      if (existing.payeeId !== input.payeeId || existing.amountCents !== input.amountCents || existing.currency !== input.currency)
        throw new DomainError("conflict", "this Idempotency-Key recorded a different out-of-band payout");
      return { payout: existing, created: false };
    }
    const [account] = await tx.select().from(connectedAccounts).where(eq(connectedAccounts.payeeId, input.payeeId));
    if (!account) throw notFound("payee with a connected account");
    if (input.stripePayoutId) {
      const [taken] = await tx.select({ id: payouts.id }).from(payouts).where(eq(payouts.stripePayoutId, input.stripePayoutId));
      if (taken) throw new DomainError("conflict", `Stripe payout ${input.stripePayoutId} is already recorded (payout ${taken.id})`);
    }
    const id = crypto.randomUUID();
    const posted = await postLedgerTransaction(tx, {
      idempotencyKey: postingKey(id),
      kind: "payout_out_of_band",
      description: `paid by hand at Stripe: ${input.reason}`,
      currency: input.currency,
      payeeId: input.payeeId,
      sourceType: "payout",
      sourceId: id,
      metadata: { stripe_payout_id: input.stripePayoutId ?? null, reason: input.reason },
      allowNegative: true,
      lines: [
        { payeeId: input.payeeId, kind: "available", location: "connected", amount: -input.amountCents },
        { payeeId: input.payeeId, kind: "paid", location: "bank", amount: input.amountCents },
      ],
      stripeRefs: input.stripePayoutId ? [{ account: account.stripeAccountId, object: input.stripePayoutId, amount: -input.amountCents }] : [],
    });
    const now = new Date();
    const [payout] = await tx
      .insert(payouts)
      .values({
        id,
        payeeId: input.payeeId,
        connectedAccountId: account.id,
        stripeAccountId: account.stripeAccountId,
        amountCents: input.amountCents,
        currency: input.currency,
        status: "paid",
        origin: "out_of_band",
        stripePayoutId: input.stripePayoutId ?? null,
        requestKey: input.requestKey,
        note: input.reason,
        ledgerTransactionId: posted.transactionId,
        paidAt: now,
        attempts: 0,
      })
      .returning();
    await recordAudit(tx, {
      actor: input.actor,
      action: "payout.recorded_out_of_band",
      entityType: "payout",
      entityId: id,
      after: { payeeId: input.payeeId, amountCents: input.amountCents, currency: input.currency, stripePayoutId: input.stripePayoutId ?? null },
      reason: input.reason,
    });
    return { payout: payout!, created: true };
  });
}

/**
 * Out-of-band payouts of this connected account recorded without a Stripe id: each is linked to the
 * one payout at Stripe no Payrun payout claims, of the same amount and currency (the oldest first),
 * so reconciliation matches it instead of reporting a payout missing transfers.
 */
export async function linkOutOfBandPayouts(db: Db, account: string): Promise<number> {
  const waiting = await db
    .select()
    .from(payouts)
    .where(and(eq(payouts.stripeAccountId, account), eq(payouts.origin, "out_of_band"), isNull(payouts.stripePayoutId)));
  let linked = 0;
  for (const p of waiting) {
    const [candidate] = await queryRows<{ stripe_payout: string }>(
      db,
      sql`select b.primary_object as stripe_payout from stripe_balance_transactions b
          where b.account = ${account} and b.type = 'payout' and b.net = ${-p.amountCents} and b.currency = ${p.currency}
            and not exists (select 1 from payouts x where x.stripe_payout_id = b.primary_object)
          order by b.created limit 1`,
    );
    if (!candidate) continue;
    await db.transaction(async (tx) => {
      await tx.update(payouts).set({ stripePayoutId: candidate.stripe_payout, updatedAt: new Date() }).where(eq(payouts.id, p.id));
      await addStripeRefs(tx, p.ledgerTransactionId!, p.currency, [{ account, object: candidate.stripe_payout, amount: -p.amountCents }]);
    });
    linked++;
  }
  return linked;
}
