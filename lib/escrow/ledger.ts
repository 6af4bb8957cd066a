import { eq, sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { type EscrowHold, escrowHolds, type FundsLocation } from "../../db/schema";
import { drawFromLocations, postLedgerTransaction } from "../ledger";
import { toCents } from "../money";

// The ledger side of a hold: available -> held when it is funded; when it ends, held -> available,
// also when a dispute was lost: Stripe takes a chargeback from the platform's balance, never from the
// connected account, so the platform's loss is posted when Stripe withdraws the funds, and what the
// payee owes for it is taken by a transfer reversal (lib/earnings/disputes.ts), as Stripe moves it.
// The money stays where it is (a hold moves nothing at Stripe): a hold draws on the payee's money
// on the platform or on their connected account, and returns each part where it came from.
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
  // A dispute or a reserve concerns a destination charge, on the connected account; a placement's
  // escrow or a manual hold concerns money the platform holds.
  const prefer = hold.kind === "dispute" || hold.kind === "rolling_reserve" ? "connected" : "platform";
  const parts = await drawFromLocations(db, { payeeId: hold.payeeId, currency: hold.currency, kind: "available", amount: hold.amountCents, prefer });
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
    lines: parts.flatMap((part) => [
      { payeeId: hold.payeeId, kind: "available" as const, location: part.location, amount: -part.amount },
      { payeeId: hold.payeeId, kind: "held" as const, location: part.location, amount: part.amount },
    ]),
  });
  await db
    .update(escrowHolds)
    .set({ holdLedgerTransactionId: posted.transactionId, updatedAt: new Date() })
    .where(eq(escrowHolds.id, hold.id));
  return posted.transactionId;
}

/** Take a funded hold's amount out of held, back to available where it was. Null when the hold was never funded. */
export async function unfundHold(
  db: Db,
  hold: EscrowHold,
  ending: HoldEnding,
  options: { effectiveAt?: Date } = {},
): Promise<string | null> {
  if (!hold.holdLedgerTransactionId) return null;
  // Where the funding put the held money (an earning's reserve, or fundHold's parts).
  const parts = await queryRows<{ location: FundsLocation; amount: string }>(
    db,
    sql`select a.location, sum(e.amount) as amount from ledger_entries e join ledger_accounts a on a.id = e.account_id
        where e.transaction_id = ${hold.holdLedgerTransactionId} and a.payee_id = ${hold.payeeId} and a.kind = 'held'
        group by a.location having sum(e.amount) > 0`,
  );
  const posted = await postLedgerTransaction(db, {
    idempotencyKey: releasePostingKey(hold.id),
    kind: "hold_release",
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
    lines: parts.flatMap((part) => {
      const amount = toCents(part.amount);
      return [
        { payeeId: hold.payeeId, kind: "held" as const, location: part.location, amount: -amount },
        { payeeId: hold.payeeId, kind: "available" as const, location: part.location, amount },
      ];
    }),
  });
  return posted.transactionId;
}
