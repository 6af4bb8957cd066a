import type { Db } from "../../db/client";
import type { Actor } from "../actor";
import { endLockedHold } from "../escrow/holds";
import { findSystemHold, openSystemHold } from "../escrow/system-holds";
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
  return {
    outcome: lost ? "settled_lost" : "released",
    holdId: hold.id,
    payeeId: hold.payeeId,
    amountCents: hold.amountCents,
  };
}
