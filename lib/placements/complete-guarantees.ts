import { sql } from "drizzle-orm";
import { queryRows } from "../../db/client";
import { type Placement, placements } from "../../db/schema";
import { type AuditEntry, recordAudits } from "../audit";
import { enqueueOutbox } from "../outbox";
import type { SweepDefinition } from "../sweeps/types";
import { placementStatusChanged } from "./events";

/** Active placements whose guarantee has passed: the one condition both the claim and the count use. */
const expiredGuarantees = (now: Date) =>
  sql`status = 'active' and guarantee_expires_at <= ${now.toISOString()}::timestamptz`;

/**
 * complete-expired-guarantees: active placements whose guarantee has ended become
 * `guarantee_completed`. One transaction per batch: the claim (FOR UPDATE SKIP LOCKED, so a second
 * instance takes other rows), the status change, the share's schedule if an older row lacks one,
 * the audit rows and the `placement.status_changed` outbox events commit together or not at all.
 */
export const completeExpiredGuarantees: SweepDefinition = {
  name: "complete-expired-guarantees",
  async step(db, ctx) {
    return db.transaction(async (tx) => {
      const completed = await tx
        .update(placements)
        .set({ status: "guarantee_completed", statusChangedAt: ctx.now, updatedAt: ctx.now })
        .where(
          sql`${placements.id} in (
            select id from placements where ${expiredGuarantees(ctx.now)}
            order by guarantee_expires_at, id
            limit ${ctx.batchSize}
            for update skip locked)`,
        )
        .returning();
      if (completed.length === 0) return { claimed: 0, processed: 0, skipped: 0, failed: 0 };

      const ids = JSON.stringify(completed.map((p) => p.id));
      // Placements created before schedules existed get theirs now; the unique key keeps it to one.
      const newSchedules = await queryRows<{ id: string }>(
        tx,
        sql`insert into payout_schedules (placement_id, payee_id, amount_cents, currency, due_at)
            select id, payee_id, payee_share_cents, currency, guarantee_expires_at
            from placements
            where id in (select jsonb_array_elements_text(${ids}::jsonb)::uuid) and payee_share_cents > 0
            on conflict (placement_id) do nothing
            returning *`,
      );

      const audits: AuditEntry[] = completed.map((after: Placement) => ({
        actor: ctx.actor,
        action: "placement.guarantee_completed",
        entityType: "placement",
        entityId: after.id,
        before: { status: "active" },
        after,
        reason: `guarantee ended at ${after.guaranteeExpiresAt?.toISOString()}`,
      }));
      for (const schedule of newSchedules) {
        audits.push({
          actor: ctx.actor,
          action: "payout_schedule.created",
          entityType: "payout_schedule",
          entityId: schedule.id,
          after: schedule,
          reason: "placement had no schedule when its guarantee completed",
        });
      }
      await recordAudits(tx, audits);
      await enqueueOutbox(
        tx,
        completed.map((p) => placementStatusChanged(p, "active", "guarantee_completed", ctx.now)),
      );
      return { claimed: completed.length, processed: completed.length, skipped: 0, failed: 0 };
    });
  },
  async remaining(db, ctx) {
    const [row] = await queryRows<{ n: string | number }>(
      db,
      sql`select count(*) as n from placements where ${expiredGuarantees(ctx.now)}`,
    );
    return Number(row?.n ?? 0);
  },
};
