import type { Metadata } from "next";
import { Pager } from "@/app/_components/pager";
import { EmptyState, ErrorState } from "@/app/_components/states";
import { getDb } from "@/db/client";
import { queryAudit } from "@/lib/audit";
import { formatDateTime } from "@/lib/dashboard/format";
import { section } from "@/lib/dashboard/section";
import { auditQuery } from "@/lib/schemas/audit";

export const metadata: Metadata = { title: "Audit log" };
export const dynamic = "force-dynamic";

type Params = Record<string, string | undefined>;
const FILTERS = ["action", "entityType", "entityId", "actorId", "from", "to"] as const;

/** Form values (dates from <input type=date>) into the API's audit query. */
function parseFilters(params: Params) {
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

export default async function AuditPage({ searchParams }: { searchParams: Promise<Params> }) {
  const params = await searchParams;
  const parsed = parseFilters(params);
  const db = await getDb();
  const result = parsed.success
    ? await section("audit", () =>
        queryAudit(db, {
          ...parsed.data,
          from: parsed.data.from ? new Date(parsed.data.from) : undefined,
          to: parsed.data.to ? new Date(parsed.data.to) : undefined,
          before: parsed.data.cursor,
        }),
      )
    : null;
  const kept = Object.fromEntries(FILTERS.map((f) => [f, params[f]]));

  return (
    <>
      <h1>Audit log</h1>
      <form method="get" className="filters" aria-label="Filter the audit log">
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
        <button type="submit">Filter</button>
      </form>
      {!parsed.success ? (
        <ErrorState title="Those filters are not valid." error={parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")} />
      ) : !result?.ok ? (
        <ErrorState title="The audit log could not be read." error={result?.error} />
      ) : result.data.rows.length === 0 ? (
        <EmptyState title="No audit entries match">Clear a filter or widen the dates.</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="responsive" data-testid="audit-table">
            <caption className="sr-only">Audit entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Entity</th>
                <th scope="col">Change</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {result.data.rows.map((r) => (
                <tr key={r.id}>
                  <td data-label="When">{formatDateTime(r.occurredAt)}</td>
                  <td data-label="Who">
                    {r.actorId} <span className="muted small">({r.actorRole ?? r.actorType})</span>
                  </td>
                  <td data-label="Action">
                    <code>{r.action}</code>
                  </td>
                  <td data-label="Entity">
                    {r.entityType} <span className="muted small">{r.entityId}</span>
                  </td>
                  <td data-label="Change" className="small">
                    {r.before ? <div>before: {JSON.stringify(r.before).slice(0, 200)}</div> : null}
                    {r.after ? <div>after: {JSON.stringify(r.after).slice(0, 200)}</div> : null}
                  </td>
                  <td data-label="Reason">{r.reason ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {result?.ok ? (
        <Pager
          basePath="/ops/audit"
          params={kept}
          cursorParam="cursor"
          current={params.cursor}
          next={result.data.nextCursor ? String(result.data.nextCursor) : null}
          label="Audit log"
        />
      ) : null}
    </>
  );
}
