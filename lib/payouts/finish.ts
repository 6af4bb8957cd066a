import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { payoutStatuses } from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import type { Env } from "../env";
import { formatMoney, toCents } from "../money";
import { cronCheckIn, PAYOUT_RUN_MONITOR } from "../notify/sentry";
import { enqueueOutbox } from "../outbox";

export type RunTotals = {
  counts: Record<string, number>;
  amountsByCurrency: Record<string, Record<string, number>>;
  failuresByCode: Record<string, number>;
  skippedByReason: Record<string, number>;
};

/** Counts and amounts of a run's payouts by status (and currency), failures by code, skips by reason. */
export async function runTotals(db: Db, runId: string): Promise<RunTotals> {
  const rows = await queryRows<{
    status: string;
    currency: string;
    reason: string | null;
    n: string;
    amount: string;
  }>(
    db,
    sql`select status, currency, coalesce(failure_code, skip_reason) as reason, count(*) as n, coalesce(sum(amount_cents), 0) as amount
        from payouts where run_id = ${runId} group by status, currency, coalesce(failure_code, skip_reason)`,
  );
  const totals: RunTotals = { counts: {}, amountsByCurrency: {}, failuresByCode: {}, skippedByReason: {} };
  for (const s of payoutStatuses) totals.counts[s] = 0;
  for (const r of rows) {
    const n = Number(r.n);
    totals.counts[r.status] = (totals.counts[r.status] ?? 0) + n;
    totals.amountsByCurrency[r.currency] ??= {};
    const byStatus = totals.amountsByCurrency[r.currency]!;
    byStatus[r.status] = (byStatus[r.status] ?? 0) + toCents(r.amount);
    if (r.status === "failed")
      totals.failuresByCode[r.reason ?? "unknown"] = (totals.failuresByCode[r.reason ?? "unknown"] ?? 0) + n;
    if (r.status === "skipped")
      totals.skippedByReason[r.reason ?? "unknown"] =
        (totals.skippedByReason[r.reason ?? "unknown"] ?? 0) + n;
  }
  return totals;
}

/**
 * When nothing is planned or processing any more: freeze the totals on the run, mark it completed
 * (with failures if any), and enqueue the Slack summary and one alert per failure class, all in one
 * transaction. Returns the run's status.
 */
export async function finalizeRunIfDone(
  db: Db,
  env: Pick<Env, "APP_BASE_URL" | "PAYOUT_TIMEZONE">,
  runId: string,
  actor: Actor,
): Promise<string> {
  const status = await db.transaction(async (tx) => {
    const [run] = await queryRows<{ status: string; cycle_key: string; started_at: string }>(
      tx,
      sql`select status, cycle_key, started_at from payout_runs where id = ${runId} for update`,
    );
    if (!run) return "missing";
    if (run.status !== "executing") return run.status;
    const [open] = await queryRows<{ n: string }>(
      tx,
      sql`select count(*) as n from payouts where run_id = ${runId} and status in ('planned', 'processing')`,
    );
    if (Number(open?.n ?? 0) > 0) return run.status;
    const totals = await runTotals(tx, runId);
    const failed = totals.counts.failed ?? 0;
    const next = failed > 0 ? "completed_with_failures" : "completed";
    await tx.execute(sql`
      update payout_runs set status = ${next}, finished_at = now(), heartbeat_at = now(), totals = ${JSON.stringify(totals)}::jsonb,
        updated_at = now() where id = ${runId}`);
    await recordAudit(tx, {
      actor,
      action: `payout_run.${next}`,
      entityType: "payout_run",
      entityId: runId,
      before: { status: run.status },
      after: { status: next, counts: totals.counts },
    });
    const sent = Object.entries(totals.amountsByCurrency)
      .map(([cur, by]) => formatMoney((by.in_transit ?? 0) + (by.paid ?? 0), cur))
      .join(", ");
    const statusUrl = `${env.APP_BASE_URL}/internal/payouts/status/${runId}`;
    await enqueueOutbox(tx, {
      type: "run.completed",
      destination: "slack",
      aggregateType: "payout_run",
      aggregateId: runId,
      dedupeKey: `run_completed:${runId}`,
      payload: {
        text: `Payout run ${run.cycle_key} ${next === "completed" ? "completed" : "completed with failures"}: ${
          (totals.counts.in_transit ?? 0) + (totals.counts.paid ?? 0)
        } sent (${sent || "nothing"}), ${failed} failed, ${totals.counts.skipped ?? 0} skipped. ${statusUrl}`,
        runId,
        counts: totals.counts,
      },
    });
    for (const [code, n] of Object.entries(totals.failuresByCode)) {
      await enqueueOutbox(tx, {
        type: "alert.run_failures",
        destination: "slack",
        aggregateType: "payout_run",
        aggregateId: runId,
        dedupeKey: `run_failures:${runId}:${code}`,
        payload: {
          text: `Payout run ${run.cycle_key}: ${n} payout(s) failed with ${code}. ${statusUrl}`,
          runId,
          code,
          count: n,
        },
      });
    }
    return next;
  });
  if (status === "completed" || status === "completed_with_failures") {
    cronCheckIn(env, PAYOUT_RUN_MONITOR, status === "completed" ? "ok" : "error");
  }
  return status;
}
