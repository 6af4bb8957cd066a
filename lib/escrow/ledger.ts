import { eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { type EscrowHold, escrowHolds } from "../../db/schema";
import { postLedgerTransaction } from "../ledger";

// The ledger side of a hold: available -> held when it is funded, held -> available when it ends.
// Both postings carry an idempotency key from the hold's id, so a retried call moves money once.
// A hold is "funded" when hold_ledger_transaction_id is set; anyone creating holds outside
// lib/escrow (the payout run's rolling reserve) must set it, or the release moves no money.

export const holdPostingKey = (holdId: string) => `escrow_hold:${holdId}`;
export const releasePostingKey = (holdId: string) => `escrow_release:${holdId}`;

/** Move the hold's amount from the payee's available to held. Call in the caller's transaction. */
export async function fundHold(db: Db, hold: EscrowHold): Promise<string> {
  const posted = await postLedgerTransaction(db, {
    idempotencyKey: holdPostingKey(hold.id),
    kind: "hold",
    description: `escrow hold (${hold.kind}): ${hold.reason}`,
    currency: hold.currency,
    payeeId: hold.payeeId,
    sourceType: "escrow_hold",
    sourceId: hold.id,
    metadata: { escrow_hold_id: hold.id, kind: hold.kind, placement_id: hold.placementId },
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

/** Move a funded hold's amount back from held to available; null when it was never funded. */
export async function unfundHold(
  db: Db,
  hold: EscrowHold,
  why: "released" | "cancelled",
): Promise<string | null> {
  if (!hold.holdLedgerTransactionId) return null;
  const posted = await postLedgerTransaction(db, {
    idempotencyKey: releasePostingKey(hold.id),
    kind: "hold_release",
    description: `escrow hold ${why} (${hold.kind})`,
    currency: hold.currency,
    payeeId: hold.payeeId,
    sourceType: "escrow_hold",
    sourceId: hold.id,
    metadata: { escrow_hold_id: hold.id, kind: hold.kind, placement_id: hold.placementId, outcome: why },
    lines: [
      { payeeId: hold.payeeId, kind: "held", amount: -hold.amountCents },
      { payeeId: hold.payeeId, kind: "available", amount: hold.amountCents },
    ],
  });
  return posted.transactionId;
}
