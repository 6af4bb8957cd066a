import { and, eq, isNull, type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { type EscrowHold, escrowHolds, payees, payoutSchedules, placements } from "../../db/schema";
import type { Actor } from "../actor";
import { DomainError, notFound } from "../errors";
import { recordAudit } from "../audit";
import { toCents } from "../money";
import { afterTableCursor, isUniqueViolation, newestFirst, type PageRequest, toPage, withCursorKey } from "../../db/paging";
import { fundHold, type HoldEnding, unfundHold } from "./ledger";

type Scope = { scopePayeeId?: string };

export type CreateHoldParams = {
  payeeId?: string;
  placementId?: string;
  kind?: EscrowHold["kind"];
  amountCents: number;
  currency?: string;
  reason: string;
  /** null or absent: held until released by hand or by a webhook (disputes). */
  releaseAt?: Date | null;
  sourceRef?: string | null;
  actor: Actor;
};

/**
 * Hold money back from a payee. The amount moves available -> held at once (409 when available
 * cannot cover it), except a placement hold made before the placement's share was credited: it
 * waits unfunded and the payout-schedules sweep funds it in the same transaction as the credit, so
 * the held part of the share never becomes payable. Placement holds may not exceed the share.
 */
export async function createEscrowHold(db: Db, params: CreateHoldParams): Promise<EscrowHold> {
  try {
    return await db.transaction(async (tx) => {
      let payeeId = params.payeeId;
      let currency = params.currency;
      let waitForSchedule = false;
      if (params.placementId) {
        const [placement] = await tx
          .select()
          .from(placements)
          .where(eq(placements.id, params.placementId))
          .for("update");
        if (!placement) throw new DomainError("invalid_input", "placementId: no such placement");
        if (payeeId && payeeId !== placement.payeeId) {
          throw new DomainError("invalid_input", "payeeId does not match the placement's payee");
        }
        if (currency && currency !== placement.currency) {
          throw new DomainError("invalid_input", "currency does not match the placement's currency");
        }
        payeeId = placement.payeeId;
        currency = placement.currency;
        const [held] = await queryRows<{ total: string | number }>(
          tx,
          sql`select coalesce(sum(amount_cents), 0) as total from escrow_holds
              where placement_id = ${placement.id} and status = 'active'`,
        );
        if (toCents(held?.total) + params.amountCents > placement.payeeShareCents) {
          throw new DomainError("conflict", "active holds on this placement would exceed the payee's share");
        }
        const [schedule] = await tx
          .select({ status: payoutSchedules.status })
          .from(payoutSchedules)
          .where(eq(payoutSchedules.placementId, placement.id));
        waitForSchedule = schedule !== undefined && schedule.status !== "processed";
      } else {
        if (!payeeId) throw new DomainError("invalid_input", "payeeId or placementId is required");
        const [payee] = await tx.select().from(payees).where(eq(payees.id, payeeId));
        if (!payee) throw new DomainError("invalid_input", "payeeId: no such payee");
        currency ??= payee.defaultCurrency;
      }
      const [hold] = await tx
        .insert(escrowHolds)
        .values({
          payeeId,
          placementId: params.placementId ?? null,
          kind: params.kind ?? (params.placementId ? "placement_escrow" : "manual"),
          amountCents: params.amountCents,
          currency: currency!,
          reason: params.reason,
          releaseAt: params.releaseAt ?? null,
          sourceRef: params.sourceRef ?? null,
          createdBy: params.actor.id,
        })
        .returning();
      const holdLedgerTransactionId = waitForSchedule ? null : await fundHold(tx, hold!);
      const after = { ...hold!, holdLedgerTransactionId };
      await recordAudit(tx, {
        actor: params.actor,
        action: "escrow_hold.created",
        entityType: "escrow_hold",
        entityId: hold!.id,
        after,
        reason: params.reason,
      });
      return after;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new DomainError("conflict", "a hold for this source already exists");
    throw error;
  }
}

export async function getEscrowHold(db: Db, params: { id: string } & Scope): Promise<EscrowHold> {
  const where = [eq(escrowHolds.id, params.id)];
  if (params.scopePayeeId) where.push(eq(escrowHolds.payeeId, params.scopePayeeId));
  const [row] = await db
    .select()
    .from(escrowHolds)
    .where(and(...where));
  if (!row) throw notFound("escrow hold");
  return row;
}

export async function listEscrowHolds(
  db: Db,
  params: PageRequest &
    Scope & {
      payeeId?: string;
      placementId?: string;
      status?: EscrowHold["status"];
      kind?: EscrowHold["kind"];
    },
) {
  const where: (SQL | undefined)[] = [afterTableCursor(escrowHolds, params.cursor)];
  if (params.scopePayeeId) where.push(eq(escrowHolds.payeeId, params.scopePayeeId));
  if (params.payeeId) where.push(eq(escrowHolds.payeeId, params.payeeId));
  if (params.placementId) where.push(eq(escrowHolds.placementId, params.placementId));
  if (params.status) where.push(eq(escrowHolds.status, params.status));
  if (params.kind) where.push(eq(escrowHolds.kind, params.kind));
  const rows = await db
    .select(withCursorKey(escrowHolds))
    .from(escrowHolds)
    .where(and(...where))
    .orderBy(...newestFirst(escrowHolds))
    .limit(params.limit + 1);
  return toPage(rows, params.limit);
}

/** Sum of active holds on a placement, per currency. */
export async function activeHoldTotalByPlacement(db: Db, params: { placementId: string } & Scope) {
  const where = [eq(placements.id, params.placementId)];
  if (params.scopePayeeId) where.push(eq(placements.payeeId, params.scopePayeeId));
  const [placement] = await db
    .select({ id: placements.id })
    .from(placements)
    .where(and(...where));
  if (!placement) throw notFound("placement");
  const rows = await queryRows<{ currency: string; amount: string | number; n: string | number }>(
    db,
    sql`select currency, coalesce(sum(amount_cents), 0) as amount, count(*) as n from escrow_holds
        where placement_id = ${params.placementId} and status = 'active' group by currency order by currency`,
  );
  return {
    placementId: params.placementId,
    totals: rows.map((r) => ({ currency: r.currency, amountCents: toCents(r.amount), count: Number(r.n) })),
  };
}

/**
 * End a hold now, by hand (API or ops console). `released`: it ran its course (early, by hand).
 * `cancelled`: it should never have been made. Either way the money goes back to available in the
 * same transaction as the status change; only the status and the audit row tell them apart.
 * Refused (409): a dispute hold, which only the dispute's outcome may end (charge.dispute.closed:
 * releasing it by hand would let the payee keep a lost chargeback), and cancelling a rolling
 * reserve (it is released by the escrow-releases sweep, or early by an admin, never cancelled).
 */
export async function endEscrowHold(
  db: Db,
  params: { id: string; outcome: "released" | "cancelled"; actor: Actor; reason?: string | null },
): Promise<EscrowHold> {
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(escrowHolds).where(eq(escrowHolds.id, params.id)).for("update");
    if (!before) throw notFound("escrow hold");
    if (before.status !== "active") throw new DomainError("conflict", `escrow hold is already ${before.status}`);
    if (before.kind === "dispute") {
      throw new DomainError("conflict", "a dispute hold ends only with the dispute's outcome (charge.dispute.closed)");
    }
    if (before.kind === "rolling_reserve" && params.outcome === "cancelled") {
      throw new DomainError("conflict", "a rolling reserve cannot be cancelled; release it instead");
    }
    return endLockedHold(tx, before, params.outcome, params.actor, params.reason ?? null);
  });
}

/**
 * The status change and ledger posting for a hold already locked by the caller's transaction.
 * `dispute_lost` ends it as cancelled; its money goes back to available like any release, since
 * Stripe took the disputed amount from the platform, not the payee (see unfundHold).
 */
export async function endLockedHold(
  tx: Db,
  before: EscrowHold,
  ending: HoldEnding,
  actor: Actor,
  reason: string | null,
  options: { effectiveAt?: Date } = {},
): Promise<EscrowHold> {
  const releaseLedgerTransactionId = await unfundHold(tx, before, ending, options);
  const status = ending === "released" ? "released" : "cancelled";
  const now = new Date();
  const [after] = await tx
    .update(escrowHolds)
    .set({
      status,
      releasedAt: status === "released" ? now : null,
      cancelledAt: status === "cancelled" ? now : null,
      releaseLedgerTransactionId,
      leaseExpiresAt: null,
      updatedAt: now,
    })
    .where(and(eq(escrowHolds.id, before.id), eq(escrowHolds.status, "active")))
    .returning();
  await recordAudit(tx, {
    actor,
    action: `escrow_hold.${ending}`,
    entityType: "escrow_hold",
    entityId: before.id,
    before,
    after,
    reason,
  });
  return after!;
}

/** Placement holds made before the share was credited, funded now (inside the credit's transaction). */
export async function fundWaitingPlacementHolds(tx: Db, placementId: string, actor: Actor): Promise<number> {
  const waiting = await tx
    .select()
    .from(escrowHolds)
    .where(
      and(
        eq(escrowHolds.placementId, placementId),
        eq(escrowHolds.status, "active"),
        isNull(escrowHolds.holdLedgerTransactionId),
      ),
    )
    .for("update");
  for (const hold of waiting) {
    const holdLedgerTransactionId = await fundHold(tx, hold);
    await recordAudit(tx, {
      actor,
      action: "escrow_hold.funded",
      entityType: "escrow_hold",
      entityId: hold.id,
      before: hold,
      after: { ...hold, holdLedgerTransactionId },
      reason: "the placement's share was credited",
    });
  }
  return waiting.length;
}
