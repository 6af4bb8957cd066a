import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { type PayoutSchedule, payoutSchedules } from "../../db/schema";
import type { Actor } from "../actor";
import { DomainError, notFound } from "../errors";
import { recordAudit } from "../audit";
import { afterTableCursor, newestFirst, type PageRequest, toPage, withCursorKey } from "../../db/paging";
import { processClaimedSchedule } from "./process";
import { SCHEDULE_LEASE_MS, workableScheduleSql } from "./rules";

type Scope = { scopePayeeId?: string };

export async function getPayoutSchedule(db: Db, params: { id: string } & Scope): Promise<PayoutSchedule> {
  const where = [eq(payoutSchedules.id, params.id)];
  if (params.scopePayeeId) where.push(eq(payoutSchedules.payeeId, params.scopePayeeId));
  const [row] = await db
    .select()
    .from(payoutSchedules)
    .where(and(...where));
  if (!row) throw notFound("payout schedule");
  return row;
}

export async function listPayoutSchedules(
  db: Db,
  params: PageRequest & Scope & { payeeId?: string; placementId?: string; status?: PayoutSchedule["status"] },
) {
  const where: (SQL | undefined)[] = [afterTableCursor(payoutSchedules, params.cursor)];
  if (params.scopePayeeId) where.push(eq(payoutSchedules.payeeId, params.scopePayeeId));
  if (params.payeeId) where.push(eq(payoutSchedules.payeeId, params.payeeId));
  if (params.placementId) where.push(eq(payoutSchedules.placementId, params.placementId));
  if (params.status) where.push(eq(payoutSchedules.status, params.status));
  const rows = await db
    .select(withCursorKey(payoutSchedules))
    .from(payoutSchedules)
    .where(and(...where))
    .orderBy(...newestFirst(payoutSchedules))
    .limit(params.limit + 1);
  return toPage(rows, params.limit);
}

/**
 * An operator's "try it now": a pending or failed schedule is worked at once, whatever its back-off
 * (a failed one starts a fresh count of retries). The collectibility rule still holds: an unpaid
 * invoice answers `not_collectible` and the schedule stays pending; money never moves early.
 */
export async function triggerPayoutSchedule(
  db: Db,
  params: { id: string; actor: Actor; now?: Date; clearingDelayHours: number; reason?: string },
): Promise<{ outcome: "processed" | "not_collectible" | "failed"; schedule: PayoutSchedule }> {
  const now = params.now ?? new Date();
  const claimed = await db.transaction(async (tx) => {
    const before = await lockOpenSchedule(tx, params.id);
    const [workable] = await queryRows<{ ok: boolean }>(
      tx,
      sql`select coalesce(${workableScheduleSql(now.toISOString(), params.clearingDelayHours)}, false) as ok
          from payout_schedules s
          join placements p on p.id = s.placement_id
          left join placement_invoices i on i.placement_id = s.placement_id
          where s.id = ${params.id}`,
    );
    const collectible = workable?.ok === true;
    const [after] = await tx
      .update(payoutSchedules)
      .set({
        status: collectible ? "processing" : "pending",
        leaseExpiresAt: collectible ? new Date(now.getTime() + SCHEDULE_LEASE_MS) : null,
        retryCount: before.status === "failed" ? 0 : before.retryCount,
        nextAttemptAt: null,
        updatedAt: new Date(),
      })
      .where(and(eq(payoutSchedules.id, params.id), inArray(payoutSchedules.status, ["pending", "failed"])))
      .returning();
    await recordAudit(tx, {
      actor: params.actor,
      action: "payout_schedule.triggered",
      entityType: "payout_schedule",
      entityId: params.id,
      before,
      after,
      reason:
        params.reason ?? (collectible ? "manual trigger" : "manual trigger: invoice not collectible yet"),
    });
    return collectible;
  });
  const outcome = claimed
    ? await processClaimedSchedule(db, params.id, params.actor, now)
    : "not_collectible";
  const schedule = await getPayoutSchedule(db, { id: params.id });
  return {
    outcome:
      outcome === "processed" ? "processed" : outcome === "not_collectible" ? "not_collectible" : "failed",
    schedule,
  };
}

/** Stop a schedule that has not paid out; refused once money moved or while a sweep works on it. */
export async function cancelPayoutSchedule(db: Db, params: { id: string; actor: Actor; reason: string }) {
  return db.transaction(async (tx) => {
    const before = await lockOpenSchedule(tx, params.id);
    const [after] = await tx
      .update(payoutSchedules)
      .set({
        status: "cancelled",
        nextAttemptAt: null,
        leaseExpiresAt: null,
        failureReason: params.reason,
        updatedAt: new Date(),
      })
      .where(eq(payoutSchedules.id, params.id))
      .returning();
    await recordAudit(tx, {
      actor: params.actor,
      action: "payout_schedule.cancelled",
      entityType: "payout_schedule",
      entityId: params.id,
      before,
      after,
      reason: params.reason,
    });
    return after!;
  });
}

/** Lock a schedule an operator may still act on (pending or failed): 404 if missing, 409 otherwise. */
async function lockOpenSchedule(tx: Db, id: string): Promise<PayoutSchedule> {
  const [schedule] = await tx.select().from(payoutSchedules).where(eq(payoutSchedules.id, id)).for("update");
  if (!schedule) throw notFound("payout schedule");
  if (schedule.status !== "pending" && schedule.status !== "failed") {
    throw new DomainError("conflict", `payout schedule is ${schedule.status}`);
  }
  return schedule;
}
