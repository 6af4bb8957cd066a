import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { LiveRefresh } from "@/app/_components/live-refresh";
import { Money } from "@/app/_components/money";
import { ErrorState, Flash } from "@/app/_components/states";
import { StatusBadge } from "@/app/_components/status-badge";
import { getDb } from "@/db/client";
import { requirePageUser } from "@/lib/auth/session";
import { formatDateTime, formatDuration } from "@/lib/dashboard/format";
import { isRunLive } from "@/lib/dashboard/ops";
import { section } from "@/lib/dashboard/section";
import { getRunStatus } from "@/lib/payouts/queries";
import { retryBlockers, retryBlockerText } from "@/lib/payouts/retryable";
import { ProblemsTable } from "./problems";

export const metadata: Metadata = { title: "Payout run" };
export const dynamic = "force-dynamic";

const STATUS_ORDER = [
  "planned",
  "processing",
  "in_transit",
  "paid",
  "failed",
  "skipped",
  "awaiting_approval",
  "rejected",
  "expired_unapproved",
];

export default async function RunPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const { id } = await params;
  const query = await searchParams;
  const user = await requirePageUser(["platform_admin", "finance"], `/ops/runs/${id}`);
  const db = await getDb();
  const status = await section("run", () => getRunStatus(db, id));
  if (!status.ok) return <ErrorState title="This run could not be read." error={status.error} hint="Reload in a minute." />;
  const run = status.data;
  if (!run) notFound();
  const live = isRunLive(run.status);
  const canRetry = user.role === "platform_admin";
  // A failed payout whose money a later run already paid (or that the balance no longer covers) shows
  // why instead of a Retry button that could only be refused.
  const blockers = canRetry && run.failed.length > 0 ? await retryBlockers(db, run.failed.map((p) => String(p.payoutId))) : new Map();
  const retryRefusals = new Map([...blockers].flatMap(([payoutId, blocker]) => (blocker ? [[payoutId, retryBlockerText(blocker)] as const] : [])));
  const elapsed = run.startedAt ? (run.finishedAt ? Date.parse(run.finishedAt) : Date.now()) - Date.parse(run.startedAt) : null;

  return (
    <>
      <p>
        <Link href="/ops/runs">← All runs</Link>
      </p>
      <h1>
        Run {String(run.cycleKey)} {run.dryRun ? <span className="badge">dry run</span> : null}
      </h1>
      <Flash notice={query.notice} error={query.error} />
      <LiveRefresh active={live} intervalMs={1000} />
      <section className="panel" aria-labelledby="progress-heading">
        <h2 id="progress-heading">Progress</h2>
        <div aria-live="polite" data-testid="run-progress">
          <p>
            Status: <StatusBadge status={String(run.status)} /> · {run.progress.handled} of {run.progress.total} payouts
            handled ({run.progress.percent} %){live ? " · updating live" : ""}
          </p>
        </div>
        <div
          className="progress"
          role="progressbar"
          aria-label="Run progress"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={run.progress.percent}
        >
          <span style={{ width: `${run.progress.percent}%` }} />
        </div>
        <dl className="facts">
          <dt>Trigger</dt>
          <dd>{String(run.trigger)}</dd>
          <dt>Started</dt>
          <dd>{formatDateTime(run.startedAt)}</dd>
          <dt>Finished</dt>
          <dd>{formatDateTime(run.finishedAt)}</dd>
          <dt>Elapsed</dt>
          <dd>{formatDuration(elapsed)}</dd>
          <dt>Last heartbeat</dt>
          <dd>{formatDateTime(run.heartbeatAt)}</dd>
        </dl>
      </section>
      <section aria-labelledby="counts-heading">
        <h2 id="counts-heading">Counts and amounts</h2>
        <div className="table-wrap">
          <table className="responsive" data-testid="run-counts">
            <caption className="sr-only">Payouts of this run by status and currency</caption>
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Payouts
                </th>
                {Object.keys(run.amountsByCurrency).map((c) => (
                  <th key={c} scope="col" className="num">
                    {c.toUpperCase()}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {STATUS_ORDER.map((s) => (
                <tr key={s}>
                  <th scope="row">
                    <StatusBadge status={s} />
                  </th>
                  <td data-label="Payouts" className="num" data-testid={`count-${s}`}>
                    {run.counts[s] ?? 0}
                  </td>
                  {Object.entries(run.amountsByCurrency).map(([c, byStatus]) => (
                    <td key={c} data-label={c.toUpperCase()} className="num">
                      <Money cents={byStatus[s] ?? 0} currency={c} />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <ProblemsTable
        title="Failed payouts"
        rows={run.failed}
        runId={id}
        canRetry={canRetry}
        retryRefusals={retryRefusals}
        empty="No payout failed in this run."
      />
      <ProblemsTable title="Skipped payees" rows={run.skipped} runId={id} canRetry={false} empty="Nobody was skipped." />
      {(run.counts.awaiting_approval ?? 0) > 0 ? (
        <p data-testid="awaiting-approval-note">
          {run.counts.awaiting_approval} payout(s) of this run await approval:{" "}
          <Link href="/ops/approvals">decide in Approvals</Link>.
        </p>
      ) : null}
    </>
  );
}
