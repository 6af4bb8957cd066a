import type { Metadata } from "next";
import { ListResult } from "@/app/_components/list-result";
import { StatusBadge } from "@/app/_components/status-badge";
import { getDb } from "@/db/client";
import { requirePageUser } from "@/lib/auth/session";
import { listUsage, usageOverview } from "@/lib/billing/usage";
import { recentExportBatches } from "@/lib/billing/usage-export";
import { formatDate } from "@/lib/dashboard/format";
import { listUsageQuery } from "@/lib/schemas/billing";
import { FilterForm } from "../../filters";
import { readFilteredList, type SearchParams } from "../../read-list";

export const metadata: Metadata = { title: "Usage" };
export const dynamic = "force-dynamic";

// Metered usage and its exports to Stripe (lib/billing/usage-export.ts). Read-only: the export runs
// from the command line, a dry run unless LIVE=true and --confirm (docs/BILLING.md).
export default async function UsagePage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  await requirePageUser(["platform_admin", "finance"], "/ops/billing/usage");
  const db = await getDb();
  const [overview, batches] = await Promise.all([usageOverview(db), recentExportBatches(db, 10)]);
  const state = ["pending", "exported", "failed"].find((s) => s === params.state);
  const parsed = listUsageQuery.safeParse({
    state,
    meter: params.meter || undefined,
    cursor: params.cursor || undefined,
    limit: 50,
  });
  const { invalidFilters, result } = await readFilteredList("usage", parsed, listUsage, { issuePaths: true });

  return (
    <>
      <h1>Usage</h1>
      <p className="muted">
        Usage recorded for clients on metered prices, and its exports to Stripe&apos;s billing meters. Export
        from the command line:
        <code> npm run billing:export-usage -- --start=YYYY-MM-DD --end=YYYY-MM-DD</code> is a dry run; it
        sends only with
        <code> LIVE=true</code> and <code>--confirm</code>.
      </p>

      <section aria-labelledby="by-meter">
        <h2 id="by-meter">By meter</h2>
        {overview.length === 0 ? (
          <p className="muted">No usage recorded yet.</p>
        ) : (
          <table data-testid="usage-by-meter">
            <caption>Usage records by meter and export state</caption>
            <thead>
              <tr>
                <th scope="col">Meter</th>
                <th scope="col" className="num">
                  To export
                </th>
                <th scope="col" className="num">
                  Quantity to export
                </th>
                <th scope="col" className="num">
                  Exported
                </th>
                <th scope="col" className="num">
                  Refused by Stripe
                </th>
              </tr>
            </thead>
            <tbody>
              {overview.map((m) => (
                <tr key={m.meter}>
                  <td>{m.meter}</td>
                  <td className="num">{m.pending}</td>
                  <td className="num">{m.pendingQuantity}</td>
                  <td className="num">{m.exported}</td>
                  <td className="num">{m.failed}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="batches">
        <h2 id="batches">Recent exports</h2>
        {batches.length === 0 ? (
          <p className="muted">No live export yet.</p>
        ) : (
          <table data-testid="export-batches">
            <caption>Live exports, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Batch</th>
                <th scope="col">Status</th>
                <th scope="col">Range</th>
                <th scope="col">By</th>
                <th scope="col">Started</th>
                <th scope="col" className="num">
                  Records
                </th>
                <th scope="col" className="num">
                  Sent
                </th>
                <th scope="col" className="num">
                  Already at Stripe
                </th>
                <th scope="col" className="num">
                  Failed
                </th>
              </tr>
            </thead>
            <tbody>
              {batches.map((b) => (
                <tr key={b.id}>
                  <td className="small">
                    <code>{b.id}</code>
                  </td>
                  <td>
                    <StatusBadge status={b.status} />
                    {b.lastError ? <span className="small"> {b.lastError}</span> : null}
                  </td>
                  <td>
                    {b.rangeStart} to {b.rangeEnd}
                  </td>
                  <td className="small">{b.actor}</td>
                  <td>{formatDate(b.startedAt)}</td>
                  <td className="num">{b.recordsTotal}</td>
                  <td className="num">{b.recordsSent}</td>
                  <td className="num">{b.recordsAlreadyAtStripe}</td>
                  <td className="num">{b.recordsFailed}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="records">
        <h2 id="records">Usage records</h2>
        <FilterForm label="Filter usage">
          <label>
            State
            <select name="state" defaultValue={state ?? ""}>
              <option value="">Any</option>
              <option value="pending">to export</option>
              <option value="exported">exported</option>
              <option value="failed">refused by Stripe</option>
            </select>
          </label>
          <label>
            Meter
            <input name="meter" defaultValue={params.meter ?? ""} />
          </label>
        </FilterForm>
        <ListResult
          invalidFilters={invalidFilters}
          result={result}
          rows={(d) => d.data}
          failedTitle="Usage could not be listed."
          failedHint="An old link? Start from the first page."
          emptyTitle="No usage records"
          emptyText="Usage arrives through POST /api/v1/usage and from placements on plans that meter them."
          table={{
            testId: "usage-table",
            caption: "Usage records, newest first",
            rowKey: (u) => u.id,
            columns: [
              { label: "Occurred", cell: (u) => formatDate(u.occurredAt) },
              { label: "Customer", className: "small", cell: (u) => <code>{u.stripeCustomerId}</code> },
              { label: "Meter", cell: (u) => u.meterEventName },
              { label: "Quantity", num: true, cell: (u) => u.quantity },
              { label: "Source", cell: (u) => u.source },
              {
                label: "Export",
                cell: (u) =>
                  u.exportedAt
                    ? `exported ${formatDate(u.exportedAt)}`
                    : u.exportFailedAt
                      ? `refused: ${u.exportError ?? ""}`
                      : "to export",
              },
            ],
          }}
          pager={(d) => ({
            basePath: "/ops/billing/usage",
            params: { state, meter: params.meter },
            cursorParam: "cursor",
            current: params.cursor,
            next: d.nextCursor,
            label: "Usage",
          })}
        />
      </section>
    </>
  );
}
