import type Stripe from "stripe";
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import type { Env } from "../env";
import { postLedgerTransaction, type PostingLine } from "../ledger";
import type { StripeGateway } from "../stripe/gateway";
import { findEarning, lockStripeObject } from "./lookup";
import { recoverFromPayee } from "./recovery";

export type RefundGateway = Pick<StripeGateway, "createTransferReversal" | "listTransferReversals">;

/** What a refund's posting needs of its charge (from a charge.refunded payload, or retrieved). */
export type RefundedCharge = {
  id: string;
  paymentIntentId: string | null;
  /** The destination charge's transfer (tr_), for a recovery. */
  transfer: string | null;
  amount: number;
  /** What the transfer carried: transfer_data.amount, or the whole charge. */
  transferAmount: number;
};

export function refundedCharge(charge: Stripe.Charge): RefundedCharge {
  const id = (v: unknown) => (typeof v === "string" ? v : v && typeof v === "object" ? ((v as { id?: string }).id ?? null) : null);
  return {
    id: charge.id,
    paymentIntentId: id(charge.payment_intent),
    transfer: id(charge.transfer),
    amount: charge.amount,
    transferAmount: charge.transfer_data?.amount ?? charge.amount,
  };
}

export type RefundResult =
  | { outcome: "unknown_earning" }
  | { outcome: "already_recorded" | "not_final"; payeeId: string }
  | { outcome: "posted"; payeeId: string; refundCents: number; reversedCents: number; recoveredCents: number };

const refundKey = (refundId: string) => `refund:${refundId}`;

async function isPosted(db: Db, idempotencyKey: string): Promise<boolean> {
  const rows = await queryRows(db, sql`select 1 from ledger_transactions where idempotency_key = ${idempotencyKey}`);
  return rows.length > 0;
}

/**
 * One refund of a destination charge, in Stripe's numbers. The customer got `refund.amount` back
 * from the platform (stripe_clearing); the transfer reversal Stripe made with it (reverse_transfer)
 * took its amount from the payee's connected account; whatever the reversal did not cover, the
 * platform bore (`losses`). A fee refund, if any, is its own Stripe object and posting
 * (application_fee.refunded). Keyed by the refund: partial and full refunds, in any order, each post
 * once. A refund made without reverse_transfer is then recovered from the payee when the platform's
 * policy says so (a transfer reversal, posted as Stripe makes it). A refund that failed or was
 * cancelled gives back what it took.
 */
export async function applyRefund(
  db: Db,
  input: { refund: Stripe.Refund; charge: RefundedCharge; effectiveAt: Date },
  options: { actor: Actor; gateway: () => RefundGateway; env: Pick<Env, "PAYEE_RECOVERY_POLICY"> },
): Promise<RefundResult> {
  const { refund, charge } = input;
  const earning = await findEarning(db, { paymentIntentId: charge.paymentIntentId, chargeId: charge.id });
  if (!earning) return { outcome: "unknown_earning" };
  await lockStripeObject(db, charge.id);
  const reversal = typeof refund.transfer_reversal === "object" ? refund.transfer_reversal : null;
  const reversed = reversal?.amount ?? 0;
  const platformPart = refund.amount - reversed;
  const failed = refund.status === "failed" || refund.status === "canceled";
  if (refund.status !== "succeeded" && refund.status !== "pending" && !failed) return { outcome: "not_final", payeeId: earning.payeeId };

  // A refund that failed or was cancelled gives back what its posting took, if it was posted.
  if (failed && !(await isPosted(db, refundKey(refund.id)))) return { outcome: "not_final", payeeId: earning.payeeId };
  const sign = failed ? -1 : 1;
  const lines: PostingLine[] = [{ kind: "stripe_clearing", amount: sign * refund.amount }];
  if (reversed > 0) lines.push({ payeeId: earning.payeeId, kind: "available", location: "connected", amount: -sign * reversed });
  if (platformPart !== 0) lines.push({ kind: "losses", amount: -sign * platformPart });
  const posted = await postLedgerTransaction(db, {
    idempotencyKey: failed ? `${refundKey(refund.id)}:${refund.status}` : refundKey(refund.id),
    kind: failed ? "refund_failed" : "refund",
    description: failed ? `Refund ${refund.id} ${refund.status}: given back` : `Refund ${refund.id} on charge ${charge.id}`,
    currency: earning.currency,
    payeeId: reversed > 0 ? earning.payeeId : null,
    sourceType: "refund",
    sourceId: refund.id,
    metadata: {
      charge: charge.id,
      payment_intent: earning.paymentIntentId,
      refund: refund.id,
      transfer_reversal: reversal?.id ?? null,
      refund_cents: refund.amount,
      reversed_cents: reversed,
    },
    effectiveAt: input.effectiveAt,
    allowNegative: true,
    lines,
    stripeRefs: [
      { account: "platform", object: refund.id, amount: sign * (reversed - refund.amount) },
      ...(reversed > 0 ? [{ account: earning.stripeAccountId, object: refund.id, amount: -sign * reversed }] : []),
    ],
  });
  if (!posted.created) return { outcome: "already_recorded", payeeId: earning.payeeId };

  let recovered = 0;
  if (!failed && reversed === 0 && options.env.PAYEE_RECOVERY_POLICY === "reverse_transfer") {
    recovered = (
      await recoverFromPayee(db, options.gateway(), {
        earning,
        charge,
        amount: refund.amount,
        idempotencyKey: `${refundKey(refund.id)}:recovery`,
        reason: `recovery of refund ${refund.id}`,
        effectiveAt: input.effectiveAt,
      })
    ).recovered;
  }
  await recordAudit(db, {
    actor: options.actor,
    action: failed ? "earning.refund_failed" : "earning.refunded",
    entityType: "payee",
    entityId: earning.payeeId,
    after: { charge: charge.id, refund: refund.id, refundCents: refund.amount, reversedCents: reversed, recoveredCents: recovered },
  });
  return { outcome: "posted", payeeId: earning.payeeId, refundCents: refund.amount, reversedCents: reversed, recoveredCents: recovered };
}
