import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import type { Env } from "../env";
import { enqueueOutbox } from "../outbox";
import { dispatchInternal } from "../scheduler/dispatch";
import { invocationBudgetMs } from "../time";
import { type Cycle, cycleFor, latestCycle } from "./cycle";
import { type ExecuteOptions, type ExecuteResult, executePayoutRun } from "./execute";
import type { PayoutGateway } from "./gateway";
import { STUCK_AFTER_MINUTES } from "./health";
import { isPayoutsPaused } from "./pause";
import { planRun, previewPlan } from "./plan";

export { executePayoutRun } from "./execute";

export type TriggerInput = {
  cycleDate?: string;
  dryRun?: boolean;
  payeeIds?: string[];
  trigger: "schedule" | "manual" | "continuation" | "api";
  actor: Actor;
  now?: Date;
  /** Crash drills: fail right after planning committed. */
  afterPlan?: () => void | Promise<void>;
};

export type TriggerResult =
  | { kind: "paused" }
  | { kind: "dry_run"; runId: string; cycleKey: string; report: Awaited<ReturnType<typeof previewPlan>> }
  | { kind: "run"; runId: string; cycleKey: string; status: string; finished: boolean; shouldExecute: boolean; created: boolean };

const FINISHED = new Set(["completed", "completed_with_failures", "failed", "cancelled"]);

type RunRow = { id: string; cycle_key: string; status: string; stale: boolean };

/**
 * The run endpoint's logic: find or create the cycle's run (one per cycle, however many triggers),
 * plan it if nobody has, and say whether this caller should execute it (fresh plan, stale heartbeat
 * or expired leases). Paused: nothing written. Dry run: a report, no payouts, no Stripe.
 */
/**
 * The run's key: the cycle date for a full run. A run for some payees only (an emergency payout, a
 * check on one account) gets its own key, so the cycle's full run still happens for everyone else
 * and pays them the rest; the same payees triggered again for the cycle are still one run.
 */
export function runKeyFor(cycle: Cycle, payeeIds?: string[] | null): string {
  if (!payeeIds?.length) return cycle.cycleKey;
  const digest = createHash("sha256")
    .update([...new Set(payeeIds)].sort().join(","))
    .digest("hex")
    .slice(0, 12);
  return `${cycle.cycleKey}:payees-${digest}`;
}

export async function triggerPayoutRun(db: Db, env: Env, input: TriggerInput): Promise<TriggerResult> {
  if (await isPayoutsPaused(db, env)) return { kind: "paused" };
  const cycle: Cycle = input.cycleDate
    ? cycleFor(input.cycleDate, env.PAYOUT_TIMEZONE)
    : latestCycle(input.now ?? new Date(), env.PAYOUT_TIMEZONE);
  const payeeFilter = input.payeeIds?.length ? JSON.stringify(input.payeeIds) : null;
  const runKey = runKeyFor(cycle, input.payeeIds);

  if (input.dryRun) {
    const report = await previewPlan(db, env, { cutoffAt: cycle.cutoffAt, payeeIds: input.payeeIds });
    const [row] = await queryRows<{ id: string }>(
      db,
      sql`insert into payout_runs (cycle_key, cycle_date, cutoff_at, status, dry_run, trigger, requested_by, payee_filter, totals, finished_at, planned_at)
          values (${runKey}, ${cycle.cycleDate}, ${cycle.cutoffAt.toISOString()}, 'completed', true, ${input.trigger},
                  ${input.actor.id}, ${payeeFilter}::jsonb, ${JSON.stringify({ dryRun: true, ...report, payouts: undefined })}::jsonb, now(), now())
          returning id`,
    );
    return { kind: "dry_run", runId: row!.id, cycleKey: runKey, report };
  }

  const { run, created } = await db.transaction(async (tx) => {
    const inserted = await queryRows<RunRow>(
      tx,
      sql`insert into payout_runs (cycle_key, cycle_date, cutoff_at, status, trigger, requested_by, payee_filter, heartbeat_at)
          values (${runKey}, ${cycle.cycleDate}, ${cycle.cutoffAt.toISOString()}, 'planning', ${input.trigger},
                  ${input.actor.id}, ${payeeFilter}::jsonb, now())
          on conflict (cycle_key) where not dry_run do nothing
          returning id, cycle_key, status, false as stale`,
    );
    if (inserted[0]) {
      await recordAudit(tx, {
        actor: input.actor,
        action: "payout_run.created",
        entityType: "payout_run",
        entityId: inserted[0].id,
        after: { cycleKey: runKey, trigger: input.trigger, payeeIds: input.payeeIds ?? null },
      });
      return { run: inserted[0], created: true };
    }
    const [existing] = await queryRows<RunRow>(
      tx,
      sql`select id, cycle_key, status,
                 coalesce(heartbeat_at, started_at) < now() - make_interval(mins => ${STUCK_AFTER_MINUTES}) as stale
          from payout_runs where cycle_key = ${runKey} and not dry_run`,
    );
    return { run: existing!, created: false };
  });

  let status = run.status;
  let justPlanned = false;
  if (status === "planning" && (created || run.stale)) {
    const outcome = await planRun(db, env, run.id, input.actor).catch(async (error: Error) => {
      // Planning failed as a whole (nothing was written): say so on the run and in Slack, then
      // let the caller answer 5xx; the next trigger plans again.
      await db.transaction(async (tx) => {
        await tx.execute(sql`update payout_runs set last_error = ${error.message.slice(0, 2000)}, updated_at = now() where id = ${run.id}`);
        await enqueueOutbox(tx, {
          type: "alert.run_failed",
          destination: "slack",
          aggregateType: "payout_run",
          aggregateId: run.id,
          dedupeKey: `run_failed:${run.id}:${Math.floor(Date.now() / 3_600_000)}`,
          payload: { text: `Payout run ${run.cycle_key} could not be planned: ${error.message}. Nothing was paid; fix and trigger again.`, runId: run.id },
        });
      });
      throw error;
    });
    justPlanned = !outcome.alreadyPlanned;
    await input.afterPlan?.();
    status = (await queryRows<{ status: string }>(db, sql`select status from payout_runs where id = ${run.id}`))[0]!.status;
  }
  let shouldExecute = false;
  if (status === "executing") {
    // Take the run over if we planned it, its executor went quiet, or some lease ran out.
    const taken = await queryRows<{ id: string }>(
      db,
      sql`update payout_runs set heartbeat_at = now(), updated_at = now()
          where id = ${run.id} and status = 'executing'
            and (${justPlanned}
                 or coalesce(heartbeat_at, started_at) < now() - make_interval(mins => ${STUCK_AFTER_MINUTES})
                 or exists (select 1 from payouts p where p.run_id = ${run.id} and p.status = 'processing' and p.lease_expires_at < now()))
          returning id`,
    );
    shouldExecute = taken.length > 0;
    if (shouldExecute && !justPlanned) {
      await db.transaction(async (tx) => {
        await recordAudit(tx, {
          actor: input.actor,
          action: "payout_run.resumed",
          entityType: "payout_run",
          entityId: run.id,
          reason: "stale heartbeat or expired leases",
        });
        await enqueueOutbox(tx, {
          type: "alert.run_stuck",
          destination: "slack",
          aggregateType: "payout_run",
          aggregateId: run.id,
          dedupeKey: `run_stuck:${run.id}:${Math.floor(Date.now() / 3_600_000)}`,
          payload: {
            text: `Payout run ${run.cycle_key} had stalled (no heartbeat for ${STUCK_AFTER_MINUTES} min or expired leases); ${input.actor.id} resumed it. Nothing is sent twice; watch its status.`,
            runId: run.id,
          },
        });
      });
    }
  }
  return { kind: "run", runId: run.id, cycleKey: run.cycle_key, status, finished: FINISHED.has(status), shouldExecute, created };
}

/**
 * The run endpoint's work: trigger the cycle's run and, when this caller should execute it, work one
 * time-budgeted slice (the rest goes to a continuation). The status is the run's after the slice;
 * `finished` still says whether the run had finished before this call.
 */
export async function triggerAndExecutePayoutRun(
  db: Db,
  env: Env,
  gateway: PayoutGateway,
  input: TriggerInput,
): Promise<TriggerResult> {
  const result = await triggerPayoutRun(db, env, input);
  if (result.kind !== "run" || !result.shouldExecute) return result;
  const slice = await continuePayoutRun(db, env, gateway, { runId: result.runId, actor: input.actor });
  return { ...result, status: slice.runStatus ?? result.status };
}

/**
 * One invocation's share of a run: execute until the time budget, then hand the rest to a
 * continuation (QStash message or local dispatch), deduplicated per run and progress point.
 */
export async function continuePayoutRun(
  db: Db,
  env: Env,
  gateway: PayoutGateway,
  options: Omit<ExecuteOptions, "deadline"> & { deadline?: Date | number; dispatch?: boolean },
): Promise<ExecuteResult & { continuation?: string }> {
  const deadline = options.deadline ?? Date.now() + invocationBudgetMs(env);
  const result = await executePayoutRun(db, env, gateway, { ...options, deadline });
  if (result.state === "done" || options.dispatch === false) return result;
  // Deterministic per progress point, so a duplicated delivery does not fork the chain; a slice that
  // could claim nothing (waiting on someone's lease) adds the minute, so the chain never stalls.
  const claimedNothing = Object.values(result.outcomes).every((n) => n === 0);
  const stall = claimedNothing ? `-w${Math.floor(Date.now() / 60_000)}` : "";
  const dedupeId = `payout-run-${options.runId}-${result.progress?.done ?? 0}-${result.progress?.attempts ?? 0}${stall}`;
  await dispatchInternal(env, {
    path: "/internal/payouts/continue",
    body: { runId: options.runId },
    dedupeId,
    delaySeconds: result.retryAfterSeconds,
    flowControlKey: `payout-run-${options.runId}`,
  });
  return { ...result, continuation: dedupeId };
}

/** The run's status, for the continue endpoint: is there anything left to do? */
export async function runIsExecuting(db: Db, runId: string): Promise<boolean | null> {
  const [row] = await queryRows<{ status: string }>(db, sql`select status from payout_runs where id = ${runId}`);
  if (!row) return null;
  return row.status === "executing";
}
