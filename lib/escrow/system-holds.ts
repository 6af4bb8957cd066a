import { and, eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { type EscrowHold, escrowHolds } from "../../db/schema";
import type { Actor } from "../actor";
import { type AuditEntry, recordAudits } from "../audit";
import { fundHold } from "./ledger";

/** Holds Payrun makes itself from a Stripe object (never by hand): one per kind and source. */
export type SystemHoldKind = Extract<EscrowHold["kind"], "rolling_reserve" | "dispute">;

export type OpenSystemHoldParams = {
  payeeId: string;
  kind: SystemHoldKind;
  /** The Stripe object the hold is for (payment intent, dispute): unique per kind. */
  sourceRef: string;
  amountCents: number;
  currency: string;
  reason: string;
  releaseAt: Date | null;
  /** When the money moved (the event's time), for the funding posting. */
  effectiveAt: Date;
  /**
   * The posting that already put the amount in held (an earning that credits its reserve straight
   * to held); absent: fundHold moves it from available now.
   */
  fundedByTransactionId?: string;
  actor: Actor;
  /** The caller's own audit rows for the same change, written in one insert with the hold's. */
  audits?: AuditEntry[];
};

/**
 * Open a hold for a Stripe object, funded, with its audit row, in the caller's transaction.
 * Returns the existing hold (created false) when one for this kind and source already exists.
 */
export async function openSystemHold(
  tx: Db,
  params: OpenSystemHoldParams,
): Promise<{ hold: EscrowHold; created: boolean }> {
  const [inserted] = await tx
    .insert(escrowHolds)
    .values({
      payeeId: params.payeeId,
      kind: params.kind,
      amountCents: params.amountCents,
      currency: params.currency,
      reason: params.reason,
      sourceRef: params.sourceRef,
      releaseAt: params.releaseAt,
      createdBy: `${params.actor.type}:${params.actor.id}`,
      holdLedgerTransactionId: params.fundedByTransactionId ?? null,
    })
    .onConflictDoNothing({ target: [escrowHolds.kind, escrowHolds.sourceRef] })
    .returning();
  if (!inserted) {
    await recordAudits(tx, params.audits ?? []);
    return { hold: (await findSystemHold(tx, params.kind, params.sourceRef))!, created: false };
  }
  const holdLedgerTransactionId =
    params.fundedByTransactionId ?? (await fundHold(tx, inserted, { effectiveAt: params.effectiveAt }));
  const hold = { ...inserted, holdLedgerTransactionId };
  await recordAudits(tx, [
    {
      actor: params.actor,
      action: "escrow_hold.created",
      entityType: "escrow_hold",
      entityId: hold.id,
      after: hold,
      reason: params.reason,
    },
    ...(params.audits ?? []),
  ]);
  return { hold, created: true };
}

/** The hold of a kind for a Stripe object, locked for the caller's transaction when asked. */
export async function findSystemHold(
  db: Db,
  kind: SystemHoldKind,
  sourceRef: string,
  options: { forUpdate?: boolean } = {},
): Promise<EscrowHold | null> {
  const query = db
    .select()
    .from(escrowHolds)
    .where(and(eq(escrowHolds.kind, kind), eq(escrowHolds.sourceRef, sourceRef)));
  const [hold] = options.forUpdate ? await query.for("update") : await query;
  return hold ?? null;
}
