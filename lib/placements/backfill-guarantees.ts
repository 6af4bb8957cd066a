import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { systemActor } from "../actor";
import { recordAudits } from "../audit";
import { guaranteeExpiresAtSql } from "./guarantee";

export type BackfillRow = {
  id: string;
  startDate: string;
  guaranteeDays: number;
  guaranteeExpiresAt: string;
};

/**
 * Fill guarantee_expires_at (start date + guarantee days, 00:00 in `timeZone`) where it is null.
 * Dry run by default: returns what would change and writes nothing. With `confirm`, writes in
 * batches, each in its own transaction with its audit rows, keyed by id so a rerun resumes.
 */
export async function backfillGuarantees(
  db: Db,
  options: {
    timeZone: string;
    confirm: boolean;
    batchSize?: number;
    onBatch?: (done: number, total: number) => void;
  },
): Promise<{ total: number; changed: number; rows: BackfillRow[] }> {
  const batchSize = options.batchSize ?? 500;
  const [count] = await queryRows<{ n: string | number }>(
    db,
    sql`select count(*) as n from placements where guarantee_expires_at is null`,
  );
  const total = Number(count?.n ?? 0);
  const expires = guaranteeExpiresAtSql(options.timeZone);
  if (!options.confirm) {
    const rows = await queryRows<{
      id: string;
      start_date: string;
      guarantee_days: number;
      expires: Date | string;
    }>(
      db,
      sql`select id, start_date::text as start_date, guarantee_days, ${expires} as expires
          from placements where guarantee_expires_at is null order by id`,
    );
    return { total, changed: 0, rows: rows.map(toBackfillRow) };
  }
  const actor = systemActor("backfill-guarantees");
  let changed = 0;
  const rows: BackfillRow[] = [];
  for (;;) {
    const batch = await db.transaction(async (tx) => {
      const updated = await queryRows<{
        id: string;
        start_date: string;
        guarantee_days: number;
        expires: Date | string;
      }>(
        tx,
        sql`update placements set guarantee_expires_at = ${expires}, updated_at = now()
            where id in (select id from placements where guarantee_expires_at is null
                         order by id limit ${batchSize} for update skip locked)
            returning id, start_date::text as start_date, guarantee_days, guarantee_expires_at as expires`,
      );
      const mapped = updated.map(toBackfillRow);
      await recordAudits(
        tx,
        mapped.map((r) => ({
          actor,
          action: "placement.guarantee_backfilled",
          entityType: "placement",
          entityId: r.id,
          before: { guaranteeExpiresAt: null },
          after: { guaranteeExpiresAt: r.guaranteeExpiresAt },
          reason: `start date + guarantee days at 00:00 ${options.timeZone}`,
        })),
      );
      return mapped;
    });
    if (batch.length === 0) break;
    changed += batch.length;
    rows.push(...batch);
    options.onBatch?.(changed, total);
  }
  return { total, changed, rows };
}

function toBackfillRow(r: {
  id: string;
  start_date: string;
  guarantee_days: number;
  expires: Date | string;
}) {
  return {
    id: r.id,
    startDate: r.start_date,
    guaranteeDays: Number(r.guarantee_days),
    guaranteeExpiresAt: new Date(r.expires).toISOString(),
  };
}
