import { Money } from "@/app/_components/money";
import { Pager } from "@/app/_components/pager";
import { EmptyState, ErrorState } from "@/app/_components/states";
import { StatusBadge } from "@/app/_components/status-badge";
import { payoutFailureText, skipReasonText } from "@/lib/dashboard/failure-reasons";
import { formatDate } from "@/lib/dashboard/format";
import type { PayeeDashboard } from "@/lib/dashboard/payee";

type Params = Record<string, string | undefined>;
const keep = (params: Params) => ({ h: params.h, p: params.p });

const STATUS_TEXT: Record<string, string> = {
  planned: "Scheduled",
  processing: "Sending",
  in_transit: "On the way",
  paid: "Paid",
  failed: "Failed",
  skipped: "Not paid",
};

export function PayoutHistoryTable({
  payouts,
  params,
  timeZone,
}: {
  payouts: PayeeDashboard["payouts"];
  params: Params;
  timeZone: string;
}) {
  return (
    <section aria-labelledby="payouts-heading">
      <h2 id="payouts-heading">Payout history</h2>
      {!payouts.ok ? (
        <ErrorState title="Your payouts could not be loaded." error={payouts.error} hint="Reload the page in a minute." />
      ) : payouts.data.payouts.length === 0 ? (
        <EmptyState title="No payouts yet">Payouts run on the 1st and the 15th; your first one will show here.</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="responsive" data-testid="payout-history">
            <caption className="sr-only">Your payouts, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Cycle</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col">Arrives / paid</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {payouts.data.payouts.map((p) => (
                <tr key={String(p.payoutId)}>
                  <td data-label="Cycle">{p.cycleKey ? formatDate(`${String(p.cycleKey)}T12:00:00Z`) : "Manual"}</td>
                  <td data-label="Status">
                    <StatusBadge status={String(p.status)} />{" "}
                    <span className="sr-only">{STATUS_TEXT[String(p.status)]}</span>
                  </td>
                  <td data-label="Amount" className="num">
                    <Money cents={p.amountCents} currency={String(p.currency)} />
                  </td>
                  <td data-label="Arrives / paid">
                    {p.paidAt ? formatDate(p.paidAt, timeZone) : p.arrivalDate ? `expected ${formatDate(p.arrivalDate, timeZone)}` : "—"}
                  </td>
                  <td data-label="Details">
                    {p.status === "failed"
                      ? payoutFailureText(p.failureCode as string | null, p.failureMessage as string | null)
                      : p.status === "skipped"
                        ? skipReasonText(p.skipReason as string | null)
                        : ""}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {payouts.ok ? (
        <Pager
          basePath="/dashboard"
          params={keep(params)}
          cursorParam="p"
          current={params.p}
          next={payouts.data.nextCursor}
          label="Payout history"
        />
      ) : null}
    </section>
  );
}

const BUCKET_LABEL: Record<string, string> = {
  pending: "pending",
  available: "available",
  held: "held",
  in_transit: "on the way",
  paid: "paid out",
};

function movementText(buckets: Record<string, number | undefined>): string {
  const from = Object.entries(buckets).filter(([, v]) => (v ?? 0) < 0).map(([k]) => BUCKET_LABEL[k] ?? k);
  const to = Object.entries(buckets).filter(([, v]) => (v ?? 0) > 0).map(([k]) => BUCKET_LABEL[k] ?? k);
  if (from.length && to.length) return `${from.join(", ")} → ${to.join(", ")}`;
  if (to.length) return `into ${to.join(", ")}`;
  if (from.length) return `from ${from.join(", ")}`;
  return "";
}

export function LedgerHistoryTable({
  history,
  params,
  timeZone,
}: {
  history: PayeeDashboard["history"];
  params: Params;
  timeZone: string;
}) {
  return (
    <section aria-labelledby="ledger-heading">
      <h2 id="ledger-heading">Earnings and deductions</h2>
      {!history.ok ? (
        <ErrorState title="Your earnings could not be loaded." error={history.error} hint="Reload the page in a minute." />
      ) : history.data.lines.length === 0 ? (
        <EmptyState title="Nothing here yet">Every sale, fee, refund and payout will be listed here.</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="responsive" data-testid="ledger-history">
            <caption className="sr-only">Earnings and deductions, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">What</th>
                <th scope="col">Balance moved</th>
                <th scope="col" className="num">
                  Amount
                </th>
              </tr>
            </thead>
            <tbody>
              {history.data.lines.map((line) => (
                <tr key={line.transactionId}>
                  <td data-label="Date">{formatDate(line.effectiveAt, timeZone)}</td>
                  <td data-label="What">{line.description}</td>
                  <td data-label="Balance moved" className="muted small">
                    {movementText(line.buckets)}
                  </td>
                  <td data-label="Amount" className="num">
                    {line.net !== 0 ? (
                      <Money cents={line.net} currency={line.currency} />
                    ) : (
                      <span className="muted">
                        <Money cents={Math.max(...Object.values(line.buckets).map((v) => Math.abs(v ?? 0)), 0)} currency={line.currency} />
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {history.ok ? (
        <Pager
          basePath="/dashboard"
          params={keep(params)}
          cursorParam="h"
          current={params.h}
          next={history.data.nextCursor}
          label="Earnings and deductions"
        />
      ) : null}
    </section>
  );
}
