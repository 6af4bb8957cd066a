import type { Metadata } from "next";
import { ListResult } from "@/app/_components/list-result";
import { queryAudit } from "@/lib/audit";
import { requirePageUser } from "@/lib/auth/session";
import { formatDateTime } from "@/lib/dashboard/format";
import { auditQuery } from "@/lib/schemas/audit";
import { FilterForm } from "../filters";
import { readFilteredList, type SearchParams } from "../read-list";

export const metadata: Metadata = { title: "Audit log" };
export const dynamic = "force-dynamic";

const FILTERS = ["action", "entityType", "entityId", "actorId", "from", "to"] as const;

/** Form values (dates from <input type=date>) into the API's audit query. */
function parseFilters(params: SearchParams) {
  const day = (d: string | undefined, end: boolean) =>
    d && /^\d{4}-\d{2}-\d{2}$/.test(d) ? `${d}T${end ? "23:59:59.999" : "00:00:00"}Z` : undefined;
  return auditQuery.safeParse({
    action: params.action || undefined,
    entityType: params.entityType || undefined,
    entityId: params.entityId || undefined,
    actorId: params.actorId || undefined,
    from: day(params.from, false),
    to: day(params.to, true),
    cursor: params.cursor || undefined,
    limit: 50,
  });
}

export default async function AuditPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  // Layouts are not re-run on client navigations, so each page checks the role itself.
  await requirePageUser(["platform_admin", "finance"], "/ops/audit");
  const params = await searchParams;
  const { invalidFilters, result } = await readFilteredList(
    "audit",
    parseFilters(params),
    (db, query) => queryAudit(db, query),
    { issuePaths: true },
  );
  const kept = Object.fromEntries(FILTERS.map((f) => [f, params[f]]));

  return (
    <>
      <h1>Audit log</h1>
      <FilterForm label="Filter the audit log">
        <label>
          Action
          <input name="action" defaultValue={params.action} placeholder="payouts.paused" />
        </label>
        <label>
          Entity type
          <input name="entityType" defaultValue={params.entityType} placeholder="payout" />
        </label>
        <label>
          Entity id
          <input name="entityId" defaultValue={params.entityId} />
        </label>
        <label>
          Actor id
          <input name="actorId" defaultValue={params.actorId} />
        </label>
        <label>
          From
          <input type="date" name="from" defaultValue={params.from} />
        </label>
        <label>
          To
          <input type="date" name="to" defaultValue={params.to} />
        </label>
      </FilterForm>
      <ListResult
        invalidFilters={invalidFilters}
        result={result}
        rows={(d) => d.rows}
        failedTitle="The audit log could not be read."
        emptyTitle="No audit entries match"
        emptyText="Clear a filter or widen the dates."
        table={{
          testId: "audit-table",
          caption: "Audit entries, newest first",
          rowKey: (r) => r.id,
          columns: [
            { label: "When", cell: (r) => formatDateTime(r.occurredAt) },
            {
              label: "Who",
              cell: (r) => (
                <>
                  {r.actorId} <span className="muted small">({r.actorRole ?? r.actorType})</span>
                </>
              ),
            },
            { label: "Action", cell: (r) => <code>{r.action}</code> },
            {
              label: "Entity",
              cell: (r) => (
                <>
                  {r.entityType} <span className="muted small">{r.entityId}</span>
                </>
              ),
            },
            {
              label: "Change",
              className: "small",
              cell: (r) => (
                <>
                  {r.before ? <div>before: {JSON.stringify(r.before).slice(0, 200)}</div> : null}
                  {r.after ? <div>after: {JSON.stringify(r.after).slice(0, 200)}</div> : null}
                </>
              ),
            },
            { label: "Reason", cell: (r) => r.reason ?? "" },
          ],
        }}
        pager={(d) => ({
          basePath: "/ops/audit",
          params: kept,
          cursorParam: "cursor",
          current: params.cursor,
          next: d.nextCursor ? String(d.nextCursor) : null,
          label: "Audit log",
        })}
      />
    </>
  );
}
