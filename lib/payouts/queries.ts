import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { Env } from "../env";
import { toCents } from "../money";
import { afterCursor, nextCursor } from "../../db/paging";
import { isUuid } from "../schemas/common";
import { latestCycle } from "./cycle";
import { runTotals } from "./finish";
import { isPayoutsPaused } from "./pause";
import { planRowsSql } from "./plan-sql";

// Read side of payouts: the status endpoint, run history, a payee's payouts, KPIs, previews.

const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
// Pages through db/paging.ts: the raw queries select their key as `cursor_at` (Postgres's text).
const cursorKeyOf = (row: Record<string, unknown>) => ({ at: String(row.cursor_at), id: String(row.id) });

/** The status endpoint's body, or null for an unknown run. */
export async function getRunStatus(db: Db, runId: string) {
  if (!isUuid(runId)) return null;
  const [run] = await queryRows<Record<string, unknown>>(db, sql`select * from payout_runs where id = ${runId}`);
  if (!run) return null;
  const totals = await runTotals(db, runId);
  const total = Object.values(totals.counts).reduce((a, b) => a + b, 0);
  const handled = total - (totals.counts.planned ?? 0) - (totals.counts.processing ?? 0);
  const problems = await queryRows<Record<string, unknown>>(
    db,
    sql`select p.id, p.payee_id, y.display_name, p.status, p.amount_cents, p.currency, p.failure_code, p.failure_message, p.skip_reason
        from payouts p join payees y on y.id = p.payee_id
        where p.run_id = ${runId} and p.status in ('failed', 'skipped', 'rejected', 'expired_unapproved')
        order by p.status, p.id limit 1000`,
  );
  const describe = (r: Record<string, unknown>) => ({
    payoutId: r.id,
    payeeId: r.payee_id,
    payeeName: r.display_name,
    amountCents: toCents(r.amount_cents),
    currency: r.currency,
    code: r.failure_code ?? r.skip_reason ?? null,
    reason: r.failure_message ?? r.skip_reason ?? null,
  });
  return {
    runId,
    cycleKey: run.cycle_key,
    status: run.status,
    dryRun: run.dry_run,
    trigger: run.trigger,
    counts: totals.counts,
    amountsByCurrency: totals.amountsByCurrency,
    progress: { total, handled, percent: total === 0 ? 100 : Math.floor((handled * 100) / total) },
    startedAt: iso(run.started_at),
    plannedAt: iso(run.planned_at),
    heartbeatAt: iso(run.heartbeat_at),
    finishedAt: iso(run.finished_at),
    report: run.dry_run ? run.totals : undefined,
    failed: problems.filter((r) => r.status === "failed").map(describe),
    // not paid in this run: skipped, and the large payouts rejected or not approved before the cycle closed
    skipped: problems.filter((r) => r.status !== "failed").map(describe),
  };
}

/** Newest runs first; `cursor` is the previous page's `nextCursor` (anything else: CursorError). */
export async function listRuns(db: Db, input: { limit?: number; cursor?: string | null } = {}) {
  const limit = Math.min(input.limit ?? 20, 100);
  const after = afterCursor(sql`started_at`, sql`id`, input.cursor);
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`select id, cycle_key, status, dry_run, trigger, started_at, started_at::text as cursor_at, finished_at, totals
        from payout_runs
        ${after ? sql`where ${after}` : sql``}
        order by started_at desc, id desc limit ${limit + 1}`,
  );
  const page = rows.slice(0, limit).map((r) => ({
    runId: r.id,
    cycleKey: r.cycle_key,
    status: r.status,
    dryRun: r.dry_run,
    trigger: r.trigger,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
    totals: r.totals,
  }));
  return { runs: page, nextCursor: nextCursor(rows, limit, cursorKeyOf) };
}

/** A payee's payouts, newest first; `cursor` is the previous page's `nextCursor`. */
export async function listPayeePayouts(db: Db, payeeId: string, input: { limit?: number; cursor?: string | null } = {}) {
  const limit = Math.min(input.limit ?? 20, 100);
  const after = afterCursor(sql`p.created_at`, sql`p.id`, input.cursor);
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`select p.id, p.run_id, r.cycle_key, r.cycle_date::text as cycle_date, p.status, p.amount_cents, p.currency,
               p.skip_reason, p.failure_code, p.failure_message, p.arrival_date, p.paid_at, p.created_at, p.created_at::text as cursor_at,
               p.method, p.fee_cents
        from payouts p left join payout_runs r on r.id = p.run_id
        where p.payee_id = ${payeeId}
          ${after ? sql`and ${after}` : sql``}
        order by p.created_at desc, p.id desc limit ${limit + 1}`,
  );
  const page = rows.slice(0, limit).map((r) => ({
    payoutId: r.id,
    runId: r.run_id,
    cycleKey: r.cycle_key,
    cycleDate: r.cycle_date,
    status: r.status,
    amountCents: toCents(r.amount_cents),
    currency: r.currency,
    skipReason: r.skip_reason,
    failureCode: r.failure_code,
    failureMessage: r.failure_message,
    arrivalDate: iso(r.arrival_date),
    paidAt: iso(r.paid_at),
    createdAt: iso(r.created_at),
    // an instant payout (lib/instant-payouts): its fee, taken on top of the amount
    method: String(r.method ?? "standard"),
    feeCents: toCents(r.fee_cents),
  }));
  return { payouts: page, nextCursor: nextCursor(rows, limit, cursorKeyOf) };
}

/**
 * Success rate, failures, totals paid, time from run start to paid, onboarding rate over `days`.
 *
 * Run start to paid is measured on one clock, our database's: from the run's started_at to the
 * moment Payrun recorded the payout paid (its `payout.paid` audit row, written in the transaction
 * that settled it). payouts.paid_at is Stripe's event time, on Stripe's clock (the simulator's in the
 * demo, which replays the past), so subtracting our start from it could go negative.
 */
export async function payoutKpis(db: Db, input: { days?: number } = {}) {
  const days = input.days ?? 30;
  const [agg] = await queryRows<Record<string, unknown>>(
    db,
    sql`select count(*) filter (where p.status = 'paid') as paid,
               count(*) filter (where p.status = 'failed') as failed,
               avg(extract(epoch from (paid.recorded_at - r.started_at))) filter (where p.status = 'paid') as avg_seconds
        from payouts p
        left join payout_runs r on r.id = p.run_id
        left join lateral (
          select max(a.occurred_at) as recorded_at from audit_log a
           where a.entity_type = 'payout' and a.entity_id = p.id::text and a.action = 'payout.paid'
        ) paid on p.status = 'paid'
        where p.created_at >= now() - make_interval(days => ${days})`,
  );
  const byCurrency = await queryRows<{ currency: string; total: string }>(
    db,
    sql`select currency, sum(amount_cents) as total from payouts
        where status = 'paid' and created_at >= now() - make_interval(days => ${days}) group by currency`,
  );
  const [onboard] = await queryRows<{ payees: string; onboarded: string }>(
    db,
    sql`select (select count(*) from payees) as payees,
               (select count(*) from connected_accounts where payouts_enabled and charges_enabled and details_submitted) as onboarded`,
  );
  const paid = Number(agg?.paid ?? 0);
  const failed = Number(agg?.failed ?? 0);
  const payees = Number(onboard?.payees ?? 0);
  return {
    days,
    successRate: paid + failed === 0 ? null : paid / (paid + failed),
    failedCount: failed,
    paidCount: paid,
    totalPaidByCurrency: Object.fromEntries(byCurrency.map((r) => [r.currency, toCents(r.total)])),
    averageSecondsRunStartToPaid: agg?.avg_seconds == null ? null : Math.round(Number(agg.avg_seconds)),
    onboardingRate: payees === 0 ? null : Number(onboard?.onboarded ?? 0) / payees,
  };
}

export type PayeePayoutPreview = {
  payeeId: string;
  cycleKey: string;
  payouts: { currency: string; amountCents: number; transferAmountCents: number; wouldPay: boolean; reason: string | null }[];
};

/** What the next run would pay this payee now, per currency, or why not. */
export async function previewPayeePayout(db: Db, env: Env, payeeId: string): Promise<PayeePayoutPreview> {
  const cycle = latestCycle(new Date(), env.PAYOUT_TIMEZONE);
  const rows = await queryRows<Record<string, unknown>>(
    db,
    planRowsSql({ runId: null, cutoffAt: new Date(), payeeIds: [payeeId], env }),
  );
  const paused = await isPayoutsPaused(db, env);
  return {
    payeeId,
    cycleKey: cycle.cycleKey,
    payouts: rows.map((r) => {
      const reason = paused ? "paused" : ((r.skip_reason as string | null) ?? (r.needs_approval ? "awaiting_approval" : null));
      return {
        currency: String(r.currency),
        amountCents: toCents(r.amount_cents),
        transferAmountCents: toCents(r.transfer_amount_cents),
        wouldPay: reason === null,
        reason,
      };
    }),
  };
}
