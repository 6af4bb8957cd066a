import { and, eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { escrowHolds } from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import { postLedgerTransaction } from "../ledger";
import { findEarning } from "./lookup";

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
 * kind "dispute" and no release date: only the dispute's outcome releases it.
 */
export async function holdDisputedAmount(
  db: Db,
  dispute: DisputeOpened,
  options: { actor: Actor },
): Promise<DisputeOpenResult> {
  const existing = await findDisputeHold(db, dispute.disputeId);
  if (existing) return { outcome: "already_held", payeeId: existing.payeeId, holdId: existing.id };
  const earning = await findEarning(db, { paymentIntentId: dispute.paymentIntentId, chargeId: dispute.chargeId });
  if (!earning) return { outcome: "unknown_earning" };

  const posted = await postLedgerTransaction(db, {
    idempotencyKey: `dispute_hold:${dispute.disputeId}`,
    kind: "hold",
    description: `Dispute ${dispute.disputeId} opened`,
    currency: earning.currency,
    payeeId: earning.payeeId,
    sourceType: "dispute",
    sourceId: dispute.disputeId,
    metadata: { hold_kind: "dispute", charge: dispute.chargeId, payment_intent: earning.paymentIntentId },
    effectiveAt: dispute.effectiveAt,
    allowNegative: true,
    lines: [
      { payeeId: earning.payeeId, kind: "available", amount: -dispute.amountCents },
      { payeeId: earning.payeeId, kind: "held", amount: dispute.amountCents },
    ],
  });
  const [hold] = await db
    .insert(escrowHolds)
    .values({
      payeeId: earning.payeeId,
      kind: "dispute",
      amountCents: dispute.amountCents,
      currency: earning.currency,
      reason: `Dispute ${dispute.disputeId} on ${dispute.chargeId ?? earning.paymentIntentId}`,
      sourceRef: dispute.disputeId,
      releaseAt: null,
      createdBy: `${options.actor.type}:${options.actor.id}`,
      holdLedgerTransactionId: posted.transactionId,
    })
    .returning();
  await recordAudit(db, {
    actor: options.actor,
    action: "escrow_hold.created",
    entityType: "escrow_hold",
    entityId: hold!.id,
    after: { kind: "dispute", dispute: dispute.disputeId, amountCents: dispute.amountCents },
  });
  return { outcome: "held", payeeId: earning.payeeId, holdId: hold!.id };
}

export type DisputeCloseResult =
  | { outcome: "unknown_dispute" }
  | { outcome: "already_closed"; holdId: string }
  | { outcome: "released" | "settled_lost"; holdId: string; payeeId: string; amountCents: number };

/**
 * The dispute closed. Won (or an inquiry closed without a loss): held goes back to available.
 * Lost: the held money leaves the payee for good (held -> stripe_clearing, which paid the bank).
 */
export async function settleDispute(
  db: Db,
  dispute: { disputeId: string; status: string; effectiveAt: Date },
  options: { actor: Actor },
): Promise<DisputeCloseResult> {
  const hold = await findDisputeHold(db, dispute.disputeId, { forUpdate: true });
  if (!hold) return { outcome: "unknown_dispute" };
  if (hold.status !== "active") return { outcome: "already_closed", holdId: hold.id };

  const lost = dispute.status === "lost";
  const posted = await postLedgerTransaction(db, {
    idempotencyKey: `${lost ? "dispute_lost" : "dispute_release"}:${dispute.disputeId}`,
    kind: lost ? "dispute_lost" : "release",
    description: `Dispute ${dispute.disputeId} ${dispute.status}`,
    currency: hold.currency,
    payeeId: hold.payeeId,
    sourceType: "dispute",
    sourceId: dispute.disputeId,
    metadata: { hold_kind: "dispute", dispute_status: dispute.status, escrow_hold: hold.id },
    effectiveAt: dispute.effectiveAt,
    lines: [
      { payeeId: hold.payeeId, kind: "held", amount: -hold.amountCents },
      lost
        ? { kind: "stripe_clearing", amount: hold.amountCents }
        : { payeeId: hold.payeeId, kind: "available", amount: hold.amountCents },
    ],
  });
  const now = new Date();
  await db
    .update(escrowHolds)
    .set(
      lost
        ? { status: "cancelled", cancelledAt: now, releaseLedgerTransactionId: posted.transactionId, updatedAt: now }
        : { status: "released", releasedAt: now, releaseLedgerTransactionId: posted.transactionId, updatedAt: now },
    )
    .where(eq(escrowHolds.id, hold.id));
  await recordAudit(db, {
    actor: options.actor,
    action: lost ? "escrow_hold.dispute_lost" : "escrow_hold.released",
    entityType: "escrow_hold",
    entityId: hold.id,
    before: { status: "active" },
    after: { status: lost ? "cancelled" : "released", disputeStatus: dispute.status },
  });
  return {
    outcome: lost ? "settled_lost" : "released",
    holdId: hold.id,
    payeeId: hold.payeeId,
    amountCents: hold.amountCents,
  };
}

async function findDisputeHold(db: Db, disputeId: string, options: { forUpdate?: boolean } = {}) {
  const query = db
    .select()
    .from(escrowHolds)
    .where(and(eq(escrowHolds.kind, "dispute"), eq(escrowHolds.sourceRef, disputeId)));
  const [hold] = options.forUpdate ? await query.for("update") : await query;
  return hold ?? null;
}
