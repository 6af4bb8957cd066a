import { eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { type EscrowHold, escrowHolds } from "../../db/schema";
import { postLedgerTransaction } from "../ledger";

// The ledger side of a hold: available -> held when it is funded; when it ends, held -> available
// (released or cancelled) or held -> stripe_clearing (a lost dispute: the money left with the bank).
// Both postings carry an idempotency key from the hold's id, so a retried call moves money once.
// A hold is "funded" when hold_ledger_transaction_id is set: by fundHold, or by a posting that
// put the money in held itself (an earning's rolling reserve, see lib/earnings/credit.ts).

export const holdPostingKey = (holdId: string) => `escrow_hold:${holdId}`;
export const releasePostingKey = (holdId: string) => `escrow_release:${holdId}`;

/** How a hold ends, as the ledger sees it. */
export type HoldEnding = "released" | "cancelled" | "dispute_lost";

/**
 * Move the hold's amount from the payee's available to held. Call in the caller's transaction.
 * A dispute hold may take available below zero (the payee may already have been paid the money);
 * every other hold is refused (insufficient_balance) when available cannot cover it.
 */
export async function fundHold(db: Db, hold: EscrowHold, options: { effectiveAt?: Date } = {}): Promise<string> {
  const posted = await postLedgerTransaction(db, {
    idempotencyKey: holdPostingKey(hold.id),
    kind: "hold",
    description: `escrow hold (${hold.kind}): ${hold.reason}`,
    currency: hold.currency,
    payeeId: hold.payeeId,
    sourceType: "escrow_hold",
    sourceId: hold.id,
    metadata: { escrow_hold_id: hold.id, kind: hold.kind, placement_id: hold.placementId, source_ref: hold.sourceRef },
    effectiveAt: options.effectiveAt,
    allowNegative: hold.kind === "dispute",
    lines: [
      { payeeId: hold.payeeId, kind: "available", amount: -hold.amountCents },
      { payeeId: hold.payeeId, kind: "held", amount: hold.amountCents },
    ],
  });
  await db
    .update(escrowHolds)
    .set({ holdLedgerTransactionId: posted.transactionId, updatedAt: new Date() })
    .where(eq(escrowHolds.id, hold.id));
  return posted.transactionId;
}

/**
 * Take a funded hold's amount out of held: back to available, or (a lost dispute) to
 * stripe_clearing, which paid the bank. Null when the hold was never funded: nothing to move.
 */
export async function unfundHold(
  db: Db,
  hold: EscrowHold,
  ending: HoldEnding,
  options: { effectiveAt?: Date } = {},
): Promise<string | null> {
  if (!hold.holdLedgerTransactionId) return null;
  const lost = ending === "dispute_lost";
  const posted = await postLedgerTransaction(db, {
    idempotencyKey: releasePostingKey(hold.id),
    kind: lost ? "dispute_lost" : "hold_release",
    description: `escrow hold ${ending} (${hold.kind})`,
    currency: hold.currency,
    payeeId: hold.payeeId,
    sourceType: "escrow_hold",
    sourceId: hold.id,
    metadata: {
      escrow_hold_id: hold.id,
      kind: hold.kind,
      placement_id: hold.placementId,
      source_ref: hold.sourceRef,
      outcome: ending,
    },
    effectiveAt: options.effectiveAt,
    lines: [
      { payeeId: hold.payeeId, kind: "held", amount: -hold.amountCents },
      lost
        ? { kind: "stripe_clearing", amount: hold.amountCents }
        : { payeeId: hold.payeeId, kind: "available", amount: hold.amountCents },
    ],
  });
  return posted.transactionId;
}
