import type { Metadata } from "next";
import { ListResult } from "@/app/_components/list-result";
import { Flash } from "@/app/_components/states";
import { StatusBadge } from "@/app/_components/status-badge";
import { SubmitButton } from "@/app/_components/submit-button";
import { processorEventStatuses } from "@/db/schema/events";
import { requirePageUser } from "@/lib/auth/session";
import { formatDateTime } from "@/lib/dashboard/format";
import { listReplayEvents, MAX_APPLY_ATTEMPTS } from "@/lib/webhooks";
import { replayListQuery } from "@/lib/webhooks/replay-schemas";
import { replayEventAction } from "../actions";
import { FilterForm, StatusFilter } from "../filters";
import { readFilteredList, type SearchParams } from "../read-list";

export const metadata: Metadata = { title: "Webhook events" };
export const dynamic = "force-dynamic";

export default async function EventsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const user = await requirePageUser(["platform_admin", "finance"], "/ops/events");
  const canAct = user.role === "platform_admin";
  const parsed = replayListQuery.safeParse({
    status: params.status || undefined,
    type: params.type || undefined,
    cursor: params.cursor || undefined,
    limit: 50,
  });
  const { invalidFilters, result } = await readFilteredList("events", parsed, listReplayEvents);

  return (
    <>
      <h1>Webhook events</h1>
      <p className="muted">
        Without a status filter this lists what needs attention: failed, pending (waiting for something Payrun does
        not know yet) and received-but-not-applied events. The hourly sweep replays them; a replay here does it now.
      </p>
      <Flash notice={params.notice} error={params.error} />
      <FilterForm label="Filter webhook events">
        <StatusFilter statuses={processorEventStatuses} value={params.status ?? ""} anyValue="" anyLabel="Needs attention" />
        <label>
          Type
          <input name="type" defaultValue={params.type} placeholder="payout.failed" />
        </label>
      </FilterForm>
      <ListResult
        invalidFilters={invalidFilters}
        result={result}
        rows={(d) => d.data}
        failedTitle="Events could not be listed."
        failedHint="A cursor from an old link? Start from the first page."
        emptyTitle="Nothing needs attention"
        emptyText="Every stored event matching these filters was applied."
        table={{
          testId: "events-table",
          caption: "Stored Stripe events, newest first",
          rowKey: (e) => e.eventId,
          columns: [
            { label: "Received", cell: (e) => formatDateTime(e.receivedAt) },
            {
              label: "Event",
              cell: (e) => (
                <>
                  <code>{e.type}</code>
                  <div className="muted small">
                    {e.eventId}
                    {e.account ? ` · ${e.account}` : ""}
                  </div>
                </>
              ),
            },
            {
              label: "Status",
              cell: (e) => (
                <>
                  <StatusBadge status={e.status} />
                  {e.replayRequested ? <span className="badge">replay requested</span> : null}
                </>
              ),
            },
            {
              label: "Attempts",
              num: true,
              cell: (e) => (
                <>
                  {e.attempts}/{MAX_APPLY_ATTEMPTS}
                </>
              ),
            },
            { label: "Last error", className: "small", cell: (e) => e.lastReplayError ?? e.lastError ?? "" },
            canAct && {
              label: "Action",
              cell: (e) =>
                e.status === "processed" || e.status === "ignored" ? null : (
                  <form action={replayEventAction} className="inline-form">
                    <input type="hidden" name="eventId" value={e.eventId} />
                    {e.attempts >= MAX_APPLY_ATTEMPTS ? (
                      <label className="row small">
                        <input type="checkbox" name="force" /> past the cap: force
                      </label>
                    ) : null}
                    <SubmitButton className="small" pendingText="Replaying…">
                      Replay<span className="sr-only"> {e.eventId}</span>
                    </SubmitButton>
                  </form>
                ),
            },
          ],
        }}
        pager={(d) => ({
          basePath: "/ops/events",
          params: { status: params.status, type: params.type },
          cursorParam: "cursor",
          current: params.cursor,
          next: d.nextCursor,
          label: "Webhook events",
        })}
      />
    </>
  );
}
