import type { Metadata } from "next";
import { Pager } from "@/app/_components/pager";
import { EmptyState, ErrorState, Flash } from "@/app/_components/states";
import { StatusBadge } from "@/app/_components/status-badge";
import { SubmitButton } from "@/app/_components/submit-button";
import { getDb } from "@/db/client";
import { processorEventStatuses } from "@/db/schema/events";
import { requirePageUser } from "@/lib/auth/session";
import { formatDateTime } from "@/lib/dashboard/format";
import { section } from "@/lib/dashboard/section";
import { listReplayEvents, MAX_APPLY_ATTEMPTS } from "@/lib/webhooks";
import { replayListQuery } from "@/lib/webhooks/replay-schemas";
import { replayEventAction } from "../actions";

export const metadata: Metadata = { title: "Webhook events" };
export const dynamic = "force-dynamic";

type Params = Record<string, string | undefined>;

export default async function EventsPage({ searchParams }: { searchParams: Promise<Params> }) {
  const params = await searchParams;
  const user = await requirePageUser(["platform_admin", "finance"], "/ops/events");
  const canAct = user.role === "platform_admin";
  const parsed = replayListQuery.safeParse({
    status: params.status || undefined,
    type: params.type || undefined,
    cursor: params.cursor || undefined,
    limit: 50,
  });
  const db = await getDb();
  const result = parsed.success ? await section("events", () => listReplayEvents(db, parsed.data)) : null;

  return (
    <>
      <h1>Webhook events</h1>
      <p className="muted">
        Without a status filter this lists what needs attention: failed, pending (waiting for something Payrun does
        not know yet) and received-but-not-applied events. The hourly sweep replays them; a replay here does it now.
      </p>
      <Flash notice={params.notice} error={params.error} />
      <form method="get" className="filters" aria-label="Filter webhook events">
        <label>
          Status
          <select name="status" defaultValue={params.status ?? ""}>
            <option value="">Needs attention</option>
            {processorEventStatuses.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Type
          <input name="type" defaultValue={params.type} placeholder="payout.failed" />
        </label>
        <button type="submit">Filter</button>
      </form>
      {!parsed.success ? (
        <ErrorState title="Those filters are not valid." error={parsed.error.issues.map((i) => i.message).join("; ")} />
      ) : !result?.ok ? (
        <ErrorState title="Events could not be listed." error={result?.error} hint="A cursor from an old link? Start from the first page." />
      ) : result.data.data.length === 0 ? (
        <EmptyState title="Nothing needs attention">Every stored event matching these filters was applied.</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="responsive" data-testid="events-table">
            <caption className="sr-only">Stored Stripe events, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Attempts
                </th>
                <th scope="col">Last error</th>
                {canAct ? <th scope="col">Action</th> : null}
              </tr>
            </thead>
            <tbody>
              {result.data.data.map((e) => (
                <tr key={e.eventId}>
                  <td data-label="Received">{formatDateTime(e.receivedAt)}</td>
                  <td data-label="Event">
                    <code>{e.type}</code>
                    <div className="muted small">
                      {e.eventId}
                      {e.account ? ` · ${e.account}` : ""}
                    </div>
                  </td>
                  <td data-label="Status">
                    <StatusBadge status={e.status} />
                    {e.replayRequested ? <span className="badge">replay requested</span> : null}
                  </td>
                  <td data-label="Attempts" className="num">
                    {e.attempts}/{MAX_APPLY_ATTEMPTS}
                  </td>
                  <td data-label="Last error" className="small">
                    {e.lastReplayError ?? e.lastError ?? ""}
                  </td>
                  {canAct ? (
                    <td data-label="Action">
                      {e.status === "processed" || e.status === "ignored" ? null : (
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
                      )}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {result?.ok ? (
        <Pager
          basePath="/ops/events"
          params={{ status: params.status, type: params.type }}
          cursorParam="cursor"
          current={params.cursor}
          next={result.data.nextCursor}
          label="Webhook events"
        />
      ) : null}
    </>
  );
}
