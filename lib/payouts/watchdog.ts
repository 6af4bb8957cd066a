import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { Actor } from "../actor";
import type { Env } from "../env";
import { runStaleAfterSeconds } from "../time";
import { expireUnapprovedPayouts } from "./expire-approvals";
import { isPayoutsPaused } from "./pause";
import { planOrReport, takeOverRun, workRunInBackground } from "./run";

export type WatchdogResult = {
  paused: boolean;
  /** Payouts whose cycle closed while they awaited approval, released to the next cycle. */
  expiredApprovals: number;
  /** Runs nobody was working on, now continued by a new chain. */
  resumed: { runId: string; cycleKey: string; was: "planning" | "executing"; silentSeconds: number }[];
};

/**
 * The run watchdog (a schedule every few minutes): any run still planning or executing whose
 * heartbeat is older than one slice lost its invocation (a crash, a kill, a continuation that never
 * came). Plan it if it never got planned, take it over with a new chain and send that chain's first
 * step. So a run needs no human after a crash, and the stall is at most one slice plus the
 * watchdog's period. Paused: nothing is resumed.
 */
export async function resumeStalledRuns(db: Db, env: Env, actor: Actor): Promise<WatchdogResult> {
  // Nothing moves: an unapproved payout's money never left available. So also while paused.
  const expiredApprovals = (await expireUnapprovedPayouts(db, { closedBy: new Date(), actor })).length;
  if (await isPayoutsPaused(db, env)) return { paused: true, expiredApprovals, resumed: [] };
  const stalled = await queryRows<{ id: string; cycle_key: string; status: "planning" | "executing"; silent_seconds: number }>(
    db,
    sql`select id, cycle_key, status, extract(epoch from now() - coalesce(heartbeat_at, started_at))::int as silent_seconds
        from payout_runs
        where status in ('planning', 'executing') and not dry_run
          and coalesce(heartbeat_at, started_at) < now() - make_interval(secs => ${runStaleAfterSeconds(env)})
        order by started_at`,
  );
  const resumed: WatchdogResult["resumed"] = [];
  for (const run of stalled) {
    let planned = false;
    if (run.status === "planning") planned = !(await planOrReport(db, env, run, actor)).alreadyPlanned;
    const chainId = await takeOverRun(db, env, run.id, actor, {
      planned,
      reason: `watchdog: no heartbeat for ${run.silent_seconds} s`,
    });
    if (!chainId) continue; // someone else took it (or it finished) meanwhile
    await workRunInBackground(db, env, run.id, { chainId, reason: "watchdog" });
    resumed.push({ runId: run.id, cycleKey: run.cycle_key, was: run.status, silentSeconds: run.silent_seconds });
  }
  return { paused: false, expiredApprovals, resumed };
}
