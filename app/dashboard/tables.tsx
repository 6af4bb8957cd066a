import { ListResult } from "@/app/_components/list-result";
import { Money } from "@/app/_components/money";
import { StatusBadge } from "@/app/_components/status-badge";
import { payoutFailureText, skipReasonText } from "@/lib/dashboard/failure-reasons";
import { formatCents, formatDate } from "@/lib/dashboard/format";
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
  awaiting_approval: "Waiting for approval",
  rejected: "Not approved",
  expired_unapproved: "Not approved in time",
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
      <ListResult
        result={payouts}
        rows={(d) => d.payouts}
        failedTitle="Your payouts could not be loaded."
        failedHint="Reload the page in a minute."
        emptyTitle="No payouts yet"
        emptyText="Payouts run on the 1st and the 15th; your first one will show here."
        table={{
          testId: "payout-history",
          caption: "Your payouts, newest first",
          rowKey: (p) => String(p.payoutId),
          columns: [
            {
              label: "Cycle",
              cell: (p) =>
                p.cycleDate ? formatDate(`${String(p.cycleDate)}T12:00:00Z`) : p.method === "instant" ? "Instant" : "Manual",
            },
            {
              label: "Status",
              cell: (p) => (
                <>
                  <StatusBadge status={String(p.status)} />{" "}
                  <span className="sr-only">{STATUS_TEXT[String(p.status)]}</span>
                </>
              ),
            },
            { label: "Amount", num: true, cell: (p) => <Money cents={p.amountCents} currency={String(p.currency)} /> },
            {
              label: "Arrives / paid",
              cell: (p) =>
                p.paidAt ? formatDate(p.paidAt, timeZone) : p.arrivalDate ? `expected ${formatDate(p.arrivalDate, timeZone)}` : "—",
            },
            {
              label: "Details",
              cell: (p) =>
                p.status === "failed"
                  ? payoutFailureText(p.failureCode as string | null, p.failureMessage as string | null)
                  : p.status === "skipped" || p.status === "rejected" || p.status === "expired_unapproved"
                    ? skipReasonText(p.skipReason as string | null)
                    : p.feeCents > 0
                      ? `Instant payout fee ${formatCents(p.feeCents, String(p.currency))}`
                    : p.status === "awaiting_approval"
                      ? skipReasonText("awaiting_approval")
                      : "",
            },
          ],
        }}
        pager={(d) => ({
          basePath: "/dashboard",
          params: keep(params),
          cursorParam: "p",
          current: params.p,
          next: d.nextCursor,
          label: "Payout history",
        })}
      />
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

const LOCATION_LABEL: Record<string, string> = {
  platform: "the platform",
  connected: "your Stripe account",
  bank: "your bank",
};

/** Between buckets, or, for a move that leaves every bucket as it was, between places. */
function movementText(line: { buckets: Record<string, number | undefined>; locations: Record<string, number | undefined> }): string {
  const bucketsChanged = Object.values(line.buckets).some((v) => (v ?? 0) !== 0);
  return bucketsChanged ? changeText(line.buckets, BUCKET_LABEL) : changeText(line.locations, LOCATION_LABEL);
}

function changeText(changes: Record<string, number | undefined>, labels: Record<string, string>): string {
  const from = Object.entries(changes).filter(([, v]) => (v ?? 0) < 0).map(([k]) => labels[k] ?? k);
  const to = Object.entries(changes).filter(([, v]) => (v ?? 0) > 0).map(([k]) => labels[k] ?? k);
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
      <ListResult
        result={history}
        rows={(d) => d.lines}
        failedTitle="Your earnings could not be loaded."
        failedHint="Reload the page in a minute."
        emptyTitle="Nothing here yet"
        emptyText="Every sale, fee, refund and payout will be listed here."
        table={{
          testId: "ledger-history",
          caption: "Earnings and deductions, newest first",
          rowKey: (line) => line.transactionId,
          columns: [
            { label: "Date", cell: (line) => formatDate(line.effectiveAt, timeZone) },
            { label: "What", cell: (line) => line.label },
            { label: "Balance moved", className: "muted small", cell: (line) => movementText(line) },
            {
              label: "Amount",
              num: true,
              cell: (line) =>
                line.net !== 0 ? (
                  <Money cents={line.net} currency={line.currency} />
                ) : (
                  <span className="muted">
                    <Money cents={line.moved} currency={line.currency} />
                  </span>
                ),
            },
          ],
        }}
        pager={(d) => ({
          basePath: "/dashboard",
          params: keep(params),
          cursorParam: "h",
          current: params.h,
          next: d.nextCursor,
          label: "Earnings and deductions",
        })}
      />
    </section>
  );
}
