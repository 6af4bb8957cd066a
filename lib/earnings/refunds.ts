import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import { postLedgerTransaction } from "../ledger";
import { toCents } from "../money";
import { findEarning, lockStripeObject } from "./lookup";

export type RefundResult =
  | { outcome: "unknown_earning" }
  | { outcome: "already_recorded"; payeeId: string }
  | { outcome: "debited"; payeeId: string; amountCents: number };

/**
 * A charge was refunded (in part or in full). Stripe's charge carries the cumulative
 * `amount_refunded`, and partial refunds may arrive in any order, so this takes back only what the
 * ledger has not taken yet for the charge (serialised per charge). The payee's available balance may
 * go below zero: they owe it, and the next earnings pay it back.
 */
export async function takeBackRefund(
  db: Db,
  refund: {
    chargeId: string;
    paymentIntentId: string | null;
    amountRefundedTotalCents: number;
    effectiveAt: Date;
  },
  options: { actor: Actor },
): Promise<RefundResult> {
  const earning = await findEarning(db, { paymentIntentId: refund.paymentIntentId, chargeId: refund.chargeId });
  if (!earning) return { outcome: "unknown_earning" };
  await lockStripeObject(db, refund.chargeId);
  const [taken] = await queryRows<{ total: string | number | null }>(
    db,
    sql`select coalesce(sum((metadata->>'amount_cents')::bigint), 0) as total from ledger_transactions
        where source_type = 'charge_refund' and source_id = ${refund.chargeId}`,
  );
  const delta = refund.amountRefundedTotalCents - toCents(taken?.total ?? 0);
  if (delta <= 0) return { outcome: "already_recorded", payeeId: earning.payeeId };

  await postLedgerTransaction(db, {
    idempotencyKey: `refund:${refund.chargeId}:${refund.amountRefundedTotalCents}`,
    kind: "refund",
    description: `Refund on charge ${refund.chargeId}`,
    currency: earning.currency,
    payeeId: earning.payeeId,
    sourceType: "charge_refund",
    sourceId: refund.chargeId,
    metadata: {
      amount_cents: delta,
      refunded_total_cents: refund.amountRefundedTotalCents,
      payment_intent: earning.paymentIntentId,
    },
    effectiveAt: refund.effectiveAt,
    allowNegative: true,
    lines: [
      { payeeId: earning.payeeId, kind: "available", location: "connected", amount: -delta },
      { kind: "stripe_clearing", amount: delta },
    ],
  });
  await recordAudit(db, {
    actor: options.actor,
    action: "earning.refunded",
    entityType: "payee",
    entityId: earning.payeeId,
    after: { charge: refund.chargeId, amountCents: delta, refundedTotalCents: refund.amountRefundedTotalCents },
  });
  return { outcome: "debited", payeeId: earning.payeeId, amountCents: delta };
}
