import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { Env } from "../env";
import { formatMoney } from "../money";
import { log, reportMessage } from "../observability/log";
import { enqueueOutbox } from "../outbox";
import { payoutsMissingTransfers } from "./payouts";

export const PAYOUT_MISSING_TRANSFERS_METRIC = "stripe_payout_missing_transfers";

export type SweepFailureCount = { sweep: string; failed: number; runs: number };

/** Items each sweep failed in the last 24 hours (its invocations' `failed`, summed). */
export async function sweepFailureCounts(db: Db): Promise<SweepFailureCount[]> {
  return queryRows<SweepFailureCount>(
    db,
    sql`select sweep, sum(failed)::int as failed, count(*)::int as runs from sweep_runs
        where at > now() - interval '24 hours' group by sweep order by sweep`,
  );
}

/**
 * The metrics reconciliation reports after a pass, and their alerts: payouts on connected accounts
 * that carried none of Payrun's money (logged as the structured metric
 * stripe_payout_missing_transfers, sent to Sentry, and on Slack once per payout above the
 * threshold), and each sweep's failures of the last 24 hours (on Slack once a day per sweep above
 * its threshold).
 */
export async function reportReconciliationMetrics(
  db: Db,
  env: Pick<Env, "RECON_PAYOUT_MISSING_TRANSFERS_THRESHOLD" | "SWEEP_FAILURE_ALERT_THRESHOLD" | "APP_BASE_URL">,
): Promise<{ payoutsMissingTransfers: number; sweepFailures: SweepFailureCount[] }> {
  const missing = await payoutsMissingTransfers(db);
  log.info("metric", { metric: PAYOUT_MISSING_TRANSFERS_METRIC, value: missing.last24h, window: "24h" });
  if (missing.last24h > env.RECON_PAYOUT_MISSING_TRANSFERS_THRESHOLD) {
    reportMessage(`${PAYOUT_MISSING_TRANSFERS_METRIC} = ${missing.last24h} in the last 24 h`, {
      level: "warning",
      tags: { metric: PAYOUT_MISSING_TRANSFERS_METRIC },
      extra: { payouts: missing.payouts.slice(0, 20) },
    });
    await enqueueOutbox(
      db,
      missing.payouts.map((p) => ({
        type: "alert.payout_missing_transfers",
        destination: "slack" as const,
        aggregateType: "stripe_payout",
        aggregateId: p.payout,
        dedupeKey: `payout_missing_transfers:${p.payout}`,
        payload: {
          text: `Stripe payout ${p.payout} (${formatMoney(p.amount, p.currency)}) on ${p.account} carried none of Payrun's transfers: made by hand or by an automatic schedule. ${missing.last24h} such payout(s) in 24 h. ${env.APP_BASE_URL}/ops/reconciliation`,
          metric: PAYOUT_MISSING_TRANSFERS_METRIC,
          value: missing.last24h,
        },
      })),
    );
  }
  const failures = await sweepFailureCounts(db);
  const day = new Date().toISOString().slice(0, 10);
  for (const f of failures) {
    log.info("metric", { metric: "sweep_failures", sweep: f.sweep, value: f.failed, window: "24h" });
    if (f.failed <= env.SWEEP_FAILURE_ALERT_THRESHOLD) continue;
    reportMessage(`sweep ${f.sweep} failed ${f.failed} item(s) in 24 h`, { level: "warning", tags: { metric: "sweep_failures", sweep: f.sweep } });
    await enqueueOutbox(db, {
      type: "alert.sweep_failures",
      destination: "slack",
      aggregateType: "sweep",
      aggregateId: f.sweep,
      dedupeKey: `sweep_failures:${f.sweep}:${day}`,
      payload: { text: `Sweep ${f.sweep} failed ${f.failed} item(s) over ${f.runs} run(s) in the last 24 h. Check its logs and the health endpoint.`, sweep: f.sweep, failed: f.failed },
    });
  }
  return { payoutsMissingTransfers: missing.last24h, sweepFailures: failures };
}
