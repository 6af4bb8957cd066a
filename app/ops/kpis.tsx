import { Money } from "@/app/_components/money";
import { EmptyState, ErrorState } from "@/app/_components/states";
import { formatDuration, formatPercent } from "@/lib/dashboard/format";
import type { OpsOverview } from "@/lib/dashboard/ops";
import { RunOutcomesChart, SuccessPie } from "./charts";

/** The go-live checklist's KPIs over 30 days, with charts. */
export function KpiPanel({ kpis, runOutcomes }: Pick<OpsOverview, "kpis" | "runOutcomes">) {
  if (!kpis.ok) return <ErrorState title="KPIs could not be computed." error={kpis.error} hint="Check the database in /internal/payouts/health." />;
  const k = kpis.data;
  const totals = Object.entries(k.totalPaidByCurrency);
  return (
    <section aria-labelledby="kpi-heading" data-testid="kpis">
      <h2 id="kpi-heading">Last {k.days} days</h2>
      <div className="cards">
        <div className="card">
          <div className="label">Payout success rate</div>
          <div className="value" data-testid="kpi-success-rate">
            {formatPercent(k.successRate)}
          </div>
          <div className="muted small">
            {k.paidCount} paid of {k.paidCount + k.failedCount} settled
          </div>
        </div>
        <div className="card">
          <div className="label">Failed payouts</div>
          <div className="value" data-testid="kpi-failed">
            {k.failedCount}
          </div>
        </div>
        <div className="card">
          <div className="label">Total paid</div>
          <div className="value" data-testid="kpi-total-paid">
            {totals.length === 0
              ? "—"
              : totals.map(([currency, cents]) => (
                  <div key={currency}>
                    <Money cents={cents} currency={currency} />
                  </div>
                ))}
          </div>
        </div>
        <div className="card">
          <div className="label">Avg. run start → paid</div>
          <div className="value">{formatDuration(k.averageSecondsRunStartToPaid === null ? null : k.averageSecondsRunStartToPaid * 1000)}</div>
        </div>
        <div className="card">
          <div className="label">Onboarding rate</div>
          <div className="value" data-testid="kpi-onboarding">
            {formatPercent(k.onboardingRate)}
          </div>
          <div className="muted small">payees who can be paid</div>
        </div>
      </div>
      <div className="grid-2">
        <div>
          <h3>Outcomes per run</h3>
          {!runOutcomes.ok ? (
            <ErrorState title="Run outcomes could not be read." error={runOutcomes.error} />
          ) : runOutcomes.data.length === 0 ? (
            <EmptyState title="No runs yet">The chart fills in after the first payout run.</EmptyState>
          ) : (
            <RunOutcomesChart data={runOutcomes.data} />
          )}
        </div>
        <div>
          <h3>Paid vs failed</h3>
          {k.paidCount + k.failedCount === 0 ? (
            <EmptyState title="Nothing settled in 30 days">Paid and failed payouts will show here.</EmptyState>
          ) : (
            <SuccessPie paid={k.paidCount} failed={k.failedCount} />
          )}
        </div>
      </div>
    </section>
  );
}
