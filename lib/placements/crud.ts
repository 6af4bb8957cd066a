import { and, eq, inArray, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { type Placement, payees, placements } from "../../db/schema";
import type { Actor } from "../actor";
import { DomainError, notFound } from "../errors";
import { recordAudit } from "../audit";
import { meterPlacement } from "../billing/usage";
import type { PlanMap } from "../schemas/billing";
import { enqueueOutbox } from "../outbox";
import { cancelSchedulesOf, syncPlacementSchedule } from "../payout-schedules/ensure";
import type { CancelPlacementInput, CreatePlacementInput, UpdatePlacementInput } from "../schemas/placements";
import { placementStatusChanged } from "./events";
import { guaranteeExpiresAt } from "./guarantee";
import { afterTableCursor, newestFirst, type PageRequest, toPage, withCursorKey } from "../../db/paging";
import { requestInvoiceVoid } from "./void-invoices";

type Scope = { scopePayeeId?: string };

/** A new active placement and its payee share's schedule, due when the guarantee ends. */
export async function createPlacement(
  db: Db,
  params: { input: CreatePlacementInput; actor: Actor; timeZone: string; plans?: PlanMap },
): Promise<Placement> {
  const { input } = params;
  return db.transaction(async (tx) => {
    const [payee] = await tx.select({ id: payees.id }).from(payees).where(eq(payees.id, input.payeeId));
    if (!payee) throw new DomainError("invalid_input", "payeeId: no such payee");
    const [row] = await tx
      .insert(placements)
      .values({
        ...input,
        guaranteeExpiresAt: guaranteeExpiresAt(input.startDate, input.guaranteeDays, params.timeZone),
        statusChangedAt: new Date(),
      })
      .returning();
    await recordAudit(tx, {
      actor: params.actor,
      action: "placement.created",
      entityType: "placement",
      entityId: row!.id,
      after: row,
    });
    await syncPlacementSchedule(tx, row!, params.actor);
    // A placement made for a client whose plan meters placements: one usage record, in this transaction.
    if (params.plans) await meterPlacement(tx, params.plans, row!);
    return row!;
  });
}

export async function getPlacement(db: Db, params: { id: string } & Scope): Promise<Placement> {
  const where = [eq(placements.id, params.id)];
  if (params.scopePayeeId) where.push(eq(placements.payeeId, params.scopePayeeId));
  const [row] = await db
    .select()
    .from(placements)
    .where(and(...where));
  if (!row) throw notFound("placement");
  return row;
}

export async function listPlacements(
  db: Db,
  params: PageRequest & Scope & { payeeId?: string; status?: Placement["status"] },
) {
  const where: (SQL | undefined)[] = [afterTableCursor(placements, params.cursor)];
  if (params.scopePayeeId) where.push(eq(placements.payeeId, params.scopePayeeId));
  if (params.payeeId) where.push(eq(placements.payeeId, params.payeeId));
  if (params.status) where.push(eq(placements.status, params.status));
  const rows = await db
    .select(withCursorKey(placements))
    .from(placements)
    .where(and(...where))
    .orderBy(...newestFirst(placements))
    .limit(params.limit + 1);
  return toPage(rows, params.limit);
}

/** Edit an active placement's terms; the guarantee end and the pending schedule follow. */
export async function updatePlacement(
  db: Db,
  params: { id: string; input: UpdatePlacementInput; actor: Actor; timeZone: string },
): Promise<Placement> {
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(placements).where(eq(placements.id, params.id)).for("update");
    if (!before) throw notFound("placement");
    if (before.status !== "active") {
      throw new DomainError("conflict", `placement is ${before.status}; only an active placement can change`);
    }
    const next = { ...before, ...params.input };
    if (next.payeeShareCents > next.feeCents) {
      throw new DomainError("invalid_input", "payeeShareCents must not exceed feeCents");
    }
    const [after] = await tx
      .update(placements)
      .set({
        ...params.input,
        guaranteeExpiresAt: guaranteeExpiresAt(next.startDate, next.guaranteeDays, params.timeZone),
        updatedAt: new Date(),
      })
      .where(eq(placements.id, params.id))
      .returning();
    await recordAudit(tx, {
      actor: params.actor,
      action: "placement.updated",
      entityType: "placement",
      entityId: params.id,
      before,
      after,
    });
    await syncPlacementSchedule(tx, after!, params.actor);
    return after!;
  });
}

/**
 * The hire fell through (failed) or was called off (cancelled): the placement ends, its unpaid
 * schedule is cancelled, its invoice is marked for voiding, and `placement.status_changed` goes to
 * the outbox, all in one transaction. Refused once the share has been credited (the money moved;
 * that needs an adjustment instead).
 */
export async function cancelPlacement(
  db: Db,
  params: { id: string; input: CancelPlacementInput; actor: Actor },
): Promise<Placement> {
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(placements).where(eq(placements.id, params.id)).for("update");
    if (!before) throw notFound("placement");
    if (before.status !== "active" && before.status !== "guarantee_completed") {
      throw new DomainError("conflict", `placement is already ${before.status}`);
    }
    await cancelSchedulesOf(
      tx,
      before.id,
      params.actor,
      `placement ${params.input.status}: ${params.input.reason}`,
    );
    const now = new Date();
    const [after] = await tx
      .update(placements)
      .set({
        status: params.input.status,
        cancelReason: params.input.reason,
        statusChangedAt: now,
        updatedAt: now,
      })
      .where(and(eq(placements.id, params.id), inArray(placements.status, ["active", "guarantee_completed"])))
      .returning();
    await recordAudit(tx, {
      actor: params.actor,
      action: `placement.${params.input.status}`,
      entityType: "placement",
      entityId: params.id,
      before,
      after,
      reason: params.input.reason,
    });
    // Its invoice is voided by the sweeps, not here (why: void-invoices.ts); an invoice the client
    // has already paid raises an ops alert in this transaction instead.
    await requestInvoiceVoid(
      tx,
      before,
      params.actor,
      `placement ${params.input.status}: ${params.input.reason}`,
      now,
    );
    await enqueueOutbox(tx, placementStatusChanged(before, before.status, params.input.status, now));
    return after!;
  });
}
