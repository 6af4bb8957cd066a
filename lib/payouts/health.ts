import { desc, sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { payoutRuns } from "../../db/schema";
import type { Env } from "../env";
import { isPayoutsPaused } from "./pause";
import { errorText } from "../observability/log";

export const STUCK_AFTER_MINUTES = 15;

export type StuckRun = { id: string; cycle_key: string; heartbeat_at: string };

/** Runs still planning or executing with no heartbeat for STUCK_AFTER_MINUTES. */
export function listStuckRuns(db: Db): Promise<StuckRun[]> {
  return queryRows<StuckRun>(
    db,
    sql`select id, cycle_key, heartbeat_at from payout_runs
        where status in ('planning', 'executing')
          and coalesce(heartbeat_at, started_at) < now() - make_interval(mins => ${STUCK_AFTER_MINUTES})`,
  );
}

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
    return { ...base, database: "unreachable" as const, error: errorText(error) };
  }
  const recentRuns = await db.select().from(payoutRuns).orderBy(desc(payoutRuns.startedAt)).limit(10);
  const stuckRuns = await listStuckRuns(db);
  // The count is over the whole 7 days; only the newest 100 are listed.
  const failures = await queryRows<Record<string, unknown> & { total: string | number }>(
    db,
    sql`select id as payout_id, run_id, payee_id, amount_cents, currency, failure_code, failure_message, failed_at,
               count(*) over () as total
        from payouts where status = 'failed' and updated_at >= now() - interval '7 days'
        order by updated_at desc limit 100`,
  );
  const recentFailures = failures.map(({ total: _total, ...failure }) => failure);
  return {
    ...base,
    database: "ok" as const,
    paused: await isPayoutsPaused(db, env),
    failuresLast7Days: Number(failures[0]?.total ?? 0),
    recentFailures,
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
