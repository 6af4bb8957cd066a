import { sql } from "drizzle-orm";
import type Stripe from "stripe";
import { type Db, queryRows } from "../../db/client";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import { postLedgerTransaction } from "../ledger";

export type FeeRefundResult = { outcome: "unknown_account" } | { outcome: "applied"; payeeId: string; posted: number };

/**
 * An application fee refunded (with a charge refund's refund_application_fee, or on its own): each
 * fee refund (fr_) gives Stripe's amount back from the platform's fee revenue to the payee's
 * connected account, once per fee refund.
 */
export async function applyFeeRefunds(
  db: Db,
  input: { fee: Pick<Stripe.ApplicationFee, "id" | "account" | "currency" | "originating_transaction">; refunds: Stripe.FeeRefund[]; effectiveAt: Date },
  options: { actor: Actor },
): Promise<FeeRefundResult> {
  const account = typeof input.fee.account === "string" ? input.fee.account : input.fee.account.id;
  const [owner] = await queryRows<{ payee_id: string }>(
    db,
    sql`select payee_id from connected_accounts where stripe_account_id = ${account}`,
  );
  if (!owner) return { outcome: "unknown_account" };
  const charge = typeof input.fee.originating_transaction === "string" ? input.fee.originating_transaction : (input.fee.originating_transaction?.id ?? null);
  let posted = 0;
  for (const refund of input.refunds) {
    if (refund.amount <= 0) continue;
    const result = await postLedgerTransaction(db, {
      idempotencyKey: `fee_refund:${refund.id}`,
      kind: "fee_refund",
      description: `Platform fee ${input.fee.id} refunded (${refund.id})`,
      currency: input.fee.currency,
      payeeId: owner.payee_id,
      sourceType: "fee_refund",
      sourceId: refund.id,
      metadata: { application_fee: input.fee.id, fee_refund: refund.id, charge },
      effectiveAt: refund.created ? new Date(refund.created * 1000) : input.effectiveAt,
      lines: [
        { kind: "fees", amount: -refund.amount },
        { payeeId: owner.payee_id, kind: "available", location: "connected", amount: refund.amount },
      ],
      stripeRefs: [
        { account: "platform", object: refund.id, amount: -refund.amount },
        { account, object: refund.id, amount: refund.amount },
      ],
    });
    if (result.created) posted++;
  }
  if (posted > 0) {
    await recordAudit(db, {
      actor: options.actor,
      action: "earning.fee_refunded",
      entityType: "payee",
      entityId: owner.payee_id,
      after: { applicationFee: input.fee.id, feeRefunds: input.refunds.map((r) => ({ id: r.id, amount: r.amount })) },
    });
  }
  return { outcome: "applied", payeeId: owner.payee_id, posted };
}
