import { desc, sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { payoutRuns } from "../../db/schema";
import type { Env } from "../env";

export const STUCK_AFTER_MINUTES = 15;

/** What ops read first: is the database up, which Stripe and scheduler, paused, recent/stuck runs. */
export async function payoutHealth(db: Db, env: Env) {
  const base = {
    stripeMode: env.stripeMode,
    scheduler: env.schedulerMode,
    databaseMode: env.databaseMode,
  };
  try {
    await db.execute(sql`select 1`);
  } catch (error) {
    return { ...base, database: "unreachable" as const, error: (error as Error).message };
  }
  const recentRuns = await db.select().from(payoutRuns).orderBy(desc(payoutRuns.startedAt)).limit(10);
  const stuckRuns = await queryRows<{ id: string; cycle_key: string; heartbeat_at: string }>(
    db,
    sql`select id, cycle_key, heartbeat_at from payout_runs
        where status in ('planning', 'executing')
          and coalesce(heartbeat_at, started_at) < now() - make_interval(mins => ${STUCK_AFTER_MINUTES})`,
  );
  return {
    ...base,
    database: "ok" as const,
    paused: env.PAYOUTS_PAUSED,
    recentRuns: recentRuns.map((r) => ({
      id: r.id,
      cycleKey: r.cycleKey,
      status: r.status,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
    })),
    stuckRuns,
  };
}
