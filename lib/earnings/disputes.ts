import type Stripe from "stripe";
import type { Db } from "../../db/client";
import type { Actor } from "../actor";
import type { Env } from "../env";
import { type PostingLine, postLedgerTransaction } from "../ledger";
import type { StripeGateway } from "../stripe/gateway";
import { endLockedHold } from "../escrow/holds";
import { findSystemHold, openSystemHold } from "../escrow/system-holds";
import { findEarning } from "./lookup";
import { recoverFromPayee } from "./recovery";
import { refundedCharge } from "./refunds";

export type DisputeOpened = {
  disputeId: string;
  chargeId: string | null;
  paymentIntentId: string | null;
  amountCents: number;
  effectiveAt: Date;
};

export type DisputeOpenResult =
  | { outcome: "unknown_earning" }
  | { outcome: "held" | "already_held"; payeeId: string; holdId: string };

/**
 * A charge was disputed: move the disputed amount from the payee's available to held while it is
 * open (available may go negative: the payee may already have been paid), with an escrow hold of
 * kind "dispute" and no release date: only the dispute's outcome ends it (settleDispute), never
 * the sweep or a person (endEscrowHold refuses it).
 */
export async function holdDisputedAmount(
  db: Db,
  dispute: DisputeOpened,
  options: { actor: Actor },
): Promise<DisputeOpenResult> {
  const existing = await findSystemHold(db, "dispute", dispute.disputeId);
  if (existing) return { outcome: "already_held", payeeId: existing.payeeId, holdId: existing.id };
  const earning = await findEarning(db, { paymentIntentId: dispute.paymentIntentId, chargeId: dispute.chargeId });
  if (!earning) return { outcome: "unknown_earning" };

  const { hold, created } = await openSystemHold(db, {
    payeeId: earning.payeeId,
    kind: "dispute",
    sourceRef: dispute.disputeId,
    amountCents: dispute.amountCents,
    currency: earning.currency,
    reason: `Dispute ${dispute.disputeId} on ${dispute.chargeId ?? earning.paymentIntentId}`,
    releaseAt: null,
    effectiveAt: dispute.effectiveAt,
    actor: options.actor,
  });
  return { outcome: created ? "held" : "already_held", payeeId: hold.payeeId, holdId: hold.id };
}

export type DisputeCloseResult =
  | { outcome: "unknown_dispute" }
  | { outcome: "already_closed"; holdId: string }
  | { outcome: "released" | "settled_lost"; holdId: string; payeeId: string; amountCents: number; recoveredCents: number };

/**
 * The dispute closed: the payee's hold ends (its money back to available, where it was). Lost: the
 * platform has borne the chargeback since Stripe withdrew it; the payee's share is then taken back
 * from their connected account with a transfer reversal when PAYEE_RECOVERY_POLICY says so.
 */
export async function settleDispute(
  db: Db,
  dispute: { disputeId: string; status: string; chargeId: string | null; effectiveAt: Date },
  options: { actor: Actor; gateway: () => Pick<StripeGateway, "retrieveCharge" | "createTransferReversal" | "listTransferReversals">; env: Pick<Env, "PAYEE_RECOVERY_POLICY"> },
): Promise<DisputeCloseResult> {
  const hold = await findSystemHold(db, "dispute", dispute.disputeId, { forUpdate: true });
  if (!hold) return { outcome: "unknown_dispute" };
  if (hold.status !== "active") return { outcome: "already_closed", holdId: hold.id };

  const lost = dispute.status === "lost";
  await endLockedHold(
    db,
    hold,
    lost ? "dispute_lost" : "released",
    options.actor,
    `dispute ${dispute.disputeId} ${dispute.status}`,
    { effectiveAt: dispute.effectiveAt },
  );
  let recovered = 0;
  if (lost && options.env.PAYEE_RECOVERY_POLICY === "reverse_transfer" && dispute.chargeId) {
    const earning = await findEarning(db, { chargeId: dispute.chargeId });
    if (earning) {
      const charge = refundedCharge(await options.gateway().retrieveCharge(dispute.chargeId));
      recovered = (
        await recoverFromPayee(db, options.gateway(), {
          earning,
          charge,
          amount: hold.amountCents,
          idempotencyKey: `dispute:${dispute.disputeId}:recovery`,
          reason: `recovery of lost dispute ${dispute.disputeId}`,
          effectiveAt: dispute.effectiveAt,
        })
      ).recovered;
    }
  }
  return {
    outcome: lost ? "settled_lost" : "released",
    holdId: hold.id,
    payeeId: hold.payeeId,
    amountCents: hold.amountCents,
    recoveredCents: recovered,
  };
}

/**
 * Stripe moved a dispute's money on the platform's balance (funds withdrawn: the disputed amount and
 * the dispute fee; funds reinstated: the amount back). Each of the dispute's balance transactions is
 * posted once, in Stripe's numbers: the amount to `losses` (the platform bears a chargeback, whoever
 * the charge paid), the fee to `stripe_fees`, both against stripe_clearing.
 */
export async function applyDisputeFunds(
  db: Db,
  dispute: Pick<Stripe.Dispute, "id" | "charge" | "currency" | "balance_transactions">,
  effectiveAt: Date,
): Promise<{ posted: number }> {
  let posted = 0;
  for (const bt of dispute.balance_transactions) {
    const lines: PostingLine[] = [];
    if (bt.amount !== 0) lines.push({ kind: "losses", amount: bt.amount }, { kind: "stripe_clearing", amount: -bt.amount });
    if (bt.fee !== 0) lines.push({ kind: "stripe_fees", amount: -bt.fee }, { kind: "stripe_clearing", amount: bt.fee });
    if (lines.length === 0) continue;
    const charge = typeof dispute.charge === "string" ? dispute.charge : dispute.charge.id;
    const result = await postLedgerTransaction(db, {
      idempotencyKey: `dispute_funds:${bt.id}`,
      kind: bt.amount < 0 ? "dispute_funds_withdrawn" : "dispute_funds_reinstated",
      description: `Dispute ${dispute.id} on ${charge}: ${bt.amount < 0 ? "funds withdrawn" : "funds reinstated"}`,
      currency: bt.currency,
      sourceType: "dispute",
      sourceId: dispute.id,
      metadata: { dispute: dispute.id, charge, balance_transaction: bt.id, amount_cents: bt.amount, fee_cents: bt.fee },
      effectiveAt: bt.created ? new Date(bt.created * 1000) : effectiveAt,
      lines,
      stripeRefs: [{ account: "platform", object: dispute.id, amount: bt.net }],
    });
    if (result.created) posted++;
  }
  return { posted };
}
