import { createHash, randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import type { Env } from "../env";
import { enqueueOutbox } from "../outbox";
import { dispatchInternal } from "../scheduler/dispatch";
import { invocationBudgetMs, runStaleAfterSeconds } from "../time";
import { type Cycle, cycleFor, latestCycle } from "./cycle";
import { type ExecuteOptions, type ExecuteResult, executePayoutRun } from "./execute";
import type { PayoutGateway } from "./process-payout";
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
  | {
      kind: "run";
      runId: string;
      cycleKey: string;
      status: string;
      finished: boolean;
      /** This caller took the run (fresh plan or a dead executor) and should work on it, as `chainId`. */
      shouldExecute: boolean;
      chainId?: string;
      created: boolean;
    };

const FINISHED = new Set(["completed", "completed_with_failures", "failed", "cancelled"]);

type RunRow = { id: string; cycle_key: string; status: string; stale: boolean };

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

/** A heartbeat older than this many seconds: nobody is working on the run (see runStaleAfterSeconds). */
const staleSql = (env: Pick<Env, "PAYOUT_FUNCTION_MAX_DURATION_SECONDS">) =>
  sql`coalesce(heartbeat_at, started_at) < now() - make_interval(secs => ${runStaleAfterSeconds(env)})`;

/**
 * The run endpoint's logic: find or create the cycle's run (one per cycle, however many triggers),
 * plan it if nobody has, and say whether this caller should execute it (it planned it, or nobody
 * has worked on it for a slice). Paused: nothing written. Dry run: a report, no payouts, no Stripe.
 */
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
                 ${staleSql(env)} as stale
          from payout_runs where cycle_key = ${runKey} and not dry_run`,
    );
    return { run: existing!, created: false };
  });

  let status = run.status;
  let justPlanned = false;
  if (status === "planning" && (created || run.stale)) {
    justPlanned = !(await planOrReport(db, env, run, input.actor)).alreadyPlanned;
    await input.afterPlan?.();
    status = (await queryRows<{ status: string }>(db, sql`select status from payout_runs where id = ${run.id}`))[0]!.status;
  }
  let chainId: string | undefined;
  if (status === "executing") {
    chainId = (await takeOverRun(db, env, run.id, input.actor, { planned: justPlanned })) ?? undefined;
  }
  return {
    kind: "run",
    runId: run.id,
    cycleKey: run.cycle_key,
    status,
    finished: FINISHED.has(status),
    shouldExecute: chainId !== undefined,
    chainId,
    created,
  };
}

/**
 * Plan a run, or say why not: planning failed as a whole (nothing was written), so the run records
 * the error and Slack hears of it, then the caller answers 5xx and the next trigger plans again.
 */
export async function planOrReport(db: Db, env: Env, run: { id: string; cycle_key: string }, actor: Actor) {
  return planRun(db, env, run.id, actor).catch(async (error: Error) => {
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
}

/** A chain id: letters and digits, safe in a QStash deduplication id. */
const newChainId = () => `c${Date.now().toString(36)}${randomBytes(4).toString("hex")}`;

/**
 * Give the run a new continuation chain, if this caller may work on it: it just planned the run, or
 * nobody has worked on it for a slice (stale heartbeat). Decided under the run row's lock, so of two
 * callers racing for a dead run exactly one gets it; a slice of the old chain sees it was superseded
 * at its next heartbeat and stops without continuing. A take-over of a dead run is audited and
 * announced in the same transaction. Returns the new chain id, or null.
 */
export async function takeOverRun(
  db: Db,
  env: Pick<Env, "PAYOUT_FUNCTION_MAX_DURATION_SECONDS">,
  runId: string,
  actor: Actor,
  options: { planned?: boolean; reason?: string } = {},
): Promise<string | null> {
  return db.transaction(async (tx) => {
    const [run] = await queryRows<{ cycle_key: string; status: string; executor_chain: string | null; stale: boolean; silent_seconds: number }>(
      tx,
      sql`select cycle_key, status, executor_chain, ${staleSql(env)} as stale,
                 extract(epoch from now() - coalesce(heartbeat_at, started_at))::int as silent_seconds
          from payout_runs where id = ${runId} for update`,
    );
    if (run?.status !== "executing") return null;
    if (!options.planned && !run.stale) return null;
    const chainId = newChainId();
    await tx.execute(sql`update payout_runs set executor_chain = ${chainId}, heartbeat_at = now(), updated_at = now() where id = ${runId}`);
    if (options.planned) return chainId;
    // Nobody has beaten for a whole slice, so whoever held these leases is gone: end them now rather
    // than let the run wait for them. Should that executor still be alive after all, the new one looks
    // each payout up at Stripe first and sends with the same idempotency keys, so nothing goes twice.
    const released = await queryRows<{ id: string }>(
      tx,
      sql`update payouts set lease_expires_at = now(), updated_at = now()
          where run_id = ${runId} and status = 'processing' and lease_expires_at > now()
          returning id`,
    );
    const reason = options.reason ?? `no heartbeat for ${run.silent_seconds} s`;
    await recordAudit(tx, {
      actor,
      action: "payout_run.resumed",
      entityType: "payout_run",
      entityId: runId,
      before: { executorChain: run.executor_chain },
      after: { executorChain: chainId, leasesEnded: released.length },
      reason,
    });
    await enqueueOutbox(tx, {
      type: "alert.run_stuck",
      destination: "slack",
      aggregateType: "payout_run",
      aggregateId: runId,
      dedupeKey: `run_stuck:${runId}:${Math.floor(Date.now() / 3_600_000)}`,
      payload: {
        text: `Payout run ${run.cycle_key} had stopped (${reason}); ${actor.id} resumed it. Nothing is sent twice; watch its status.`,
        runId,
      },
    });
    return chainId;
  });
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
  if (result.kind !== "run" || !result.chainId) return result;
  const slice = await continuePayoutRun(db, env, gateway, { runId: result.runId, chainId: result.chainId, actor: input.actor });
  return { ...result, status: slice.runStatus ?? result.status };
}

/**
 * One invocation's share of a run, as step `continuation` of chain `chainId`: execute until the time
 * budget, then hand the rest to the chain's next step (QStash message or the local dispatcher). The
 * next step's deduplication id is fixed by chain and step, so a duplicated delivery of this step
 * never forks the chain; a chain that was taken over stops here.
 */
export async function continuePayoutRun(
  db: Db,
  env: Env,
  gateway: PayoutGateway,
  options: Omit<ExecuteOptions, "deadline" | "chainId"> & {
    chainId: string;
    continuation?: number;
    deadline?: Date | number;
    dispatch?: boolean;
  },
): Promise<ExecuteResult & { continuation?: string }> {
  const deadline = options.deadline ?? Date.now() + invocationBudgetMs(env);
  const result = await executePayoutRun(db, env, gateway, { ...options, deadline });
  if (result.state === "done" || result.superseded || options.dispatch === false) return result;
  const dedupeId = await dispatchRunStep(db, env, {
    runId: options.runId,
    chainId: options.chainId,
    step: (options.continuation ?? 0) + 1,
    delaySeconds: result.retryAfterSeconds,
  });
  return { ...result, continuation: dedupeId };
}

/** The run's status and which chain may work on it, for the continue endpoint. */
export async function runExecution(db: Db, runId: string): Promise<{ status: string; chainId: string | null } | null> {
  const [row] = await queryRows<{ status: string; executor_chain: string | null }>(
    db,
    sql`select status, executor_chain from payout_runs where id = ${runId}`,
  );
  return row ? { status: row.status, chainId: row.executor_chain } : null;
}

/**
 * Send step `step` of a chain to the continue endpoint. Its deduplication id is fixed by run, chain
 * and step, so the same step dispatched twice (a duplicated delivery of the step before) is one.
 */
async function dispatchRunStep(
  db: Db,
  env: Env,
  input: { runId: string; chainId: string; step: number; delaySeconds?: number },
): Promise<string> {
  const dedupeId = `payout-run-${input.runId}-${input.chainId}-${input.step}`;
  await dispatchInternal(db, env, {
    path: "/internal/payouts/continue",
    body: { runId: input.runId, chainId: input.chainId, continuation: input.step },
    dedupeId,
    delaySeconds: input.delaySeconds,
    flowControlKey: `payout-run-${input.runId}`,
  });
  return dedupeId;
}

/**
 * Have the run worked on in the background (the ops console, a retried payout), so the caller stays
 * quick: with the chain the caller just took (it planned the run), that chain's first step; without
 * one, a nudge that the continue endpoint turns into a take-over only if nobody works on the run.
 */
export async function workRunInBackground(db: Db, env: Env, runId: string, input: { chainId?: string; reason: string }) {
  if (input.chainId) return dispatchRunStep(db, env, { runId, chainId: input.chainId, step: 0 });
  await dispatchInternal(db, env, {
    path: "/internal/payouts/continue",
    body: { runId },
    dedupeId: `payout-run-${runId}-nudge-${input.reason}-${Date.now()}`,
    flowControlKey: `payout-run-${runId}`,
  });
}
