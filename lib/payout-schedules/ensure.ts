import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../../db/client";
import { type Placement, payoutSchedules } from "../../db/schema";
import type { Actor } from "../actor";
import { DomainError } from "../errors";
import { recordAudit } from "../audit";

/**
 * Keep a placement's schedule in step with its terms: one schedule per placement share (unique on
 * placement_id), due when the guarantee ends. A pending schedule follows edits of the share and the
 * dates; a share of zero has no schedule. Call inside the transaction that changed the placement.
 */
export async function syncPlacementSchedule(db: Db, placement: Placement, actor: Actor): Promise<void> {
  const [existing] = await db
    .select()
    .from(payoutSchedules)
    .where(eq(payoutSchedules.placementId, placement.id))
    .for("update");
  const dueAt = placement.guaranteeExpiresAt;
  if (!existing) {
    if (placement.payeeShareCents <= 0 || !dueAt) return;
    const [created] = await db
      .insert(payoutSchedules)
      .values({
        placementId: placement.id,
        payeeId: placement.payeeId,
        amountCents: placement.payeeShareCents,
        currency: placement.currency,
        dueAt,
      })
      .onConflictDoNothing({ target: payoutSchedules.placementId })
      .returning();
    if (created) {
      await recordAudit(db, {
        actor,
        action: "payout_schedule.created",
        entityType: "payout_schedule",
        entityId: created.id,
        after: created,
        reason: `share of placement ${placement.id}`,
      });
    }
    return;
  }
  if (existing.status !== "pending") {
    if (existing.amountCents !== placement.payeeShareCents || existing.dueAt.getTime() !== dueAt?.getTime()) {
      throw new DomainError(
        "conflict",
        `the payout schedule is ${existing.status}; the share can no longer change`,
      );
    }
    return;
  }
  if (placement.payeeShareCents <= 0) {
    await cancelSchedulesOf(db, placement.id, actor, "the placement's share is now zero");
    return;
  }
  if (existing.amountCents === placement.payeeShareCents && existing.dueAt.getTime() === dueAt?.getTime())
    return;
  const [after] = await db
    .update(payoutSchedules)
    .set({ amountCents: placement.payeeShareCents, dueAt: dueAt ?? existing.dueAt, updatedAt: new Date() })
    .where(eq(payoutSchedules.id, existing.id))
    .returning();
  await recordAudit(db, {
    actor,
    action: "payout_schedule.updated",
    entityType: "payout_schedule",
    entityId: existing.id,
    before: existing,
    after,
    reason: "placement terms changed",
  });
}

/**
 * Cancel a placement's schedule that has not paid out. Refuses (409) when money already moved or a
 * sweep is working on it right now, so a cancelled placement never leaves a credited share behind.
 */
export async function cancelSchedulesOf(
  db: Db,
  placementId: string,
  actor: Actor,
  reason: string,
): Promise<void> {
  const rows = await db
    .select()
    .from(payoutSchedules)
    .where(eq(payoutSchedules.placementId, placementId))
    .for("update");
  for (const row of rows) {
    if (row.status === "processed" || row.status === "processing") {
      throw new DomainError("conflict", `the placement's payout schedule is ${row.status}`);
    }
  }
  const open = rows.filter((r) => r.status === "pending" || r.status === "failed");
  if (open.length === 0) return;
  const now = new Date();
  const updated = await db
    .update(payoutSchedules)
    .set({
      status: "cancelled",
      failureReason: reason,
      nextAttemptAt: null,
      leaseExpiresAt: null,
      updatedAt: now,
    })
    .where(
      and(
        inArray(
          payoutSchedules.id,
          open.map((r) => r.id),
        ),
        inArray(payoutSchedules.status, ["pending", "failed"]),
      ),
    )
    .returning();
  for (const after of updated) {
    await recordAudit(db, {
      actor,
      action: "payout_schedule.cancelled",
      entityType: "payout_schedule",
      entityId: after.id,
      before: open.find((r) => r.id === after.id),
      after,
      reason,
    });
  }
}
