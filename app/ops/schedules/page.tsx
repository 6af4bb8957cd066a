import type { Metadata } from "next";
import { Money } from "@/app/_components/money";
import { Pager } from "@/app/_components/pager";
import { EmptyState, ErrorState, Flash } from "@/app/_components/states";
import { StatusBadge } from "@/app/_components/status-badge";
import { getDb } from "@/db/client";
import { requirePageUser } from "@/lib/auth/session";
import { formatDate } from "@/lib/dashboard/format";
import { section } from "@/lib/dashboard/section";
import { listPayoutSchedules } from "@/lib/payout-schedules/admin";
import { listPayoutSchedulesQuery, payoutScheduleStatusValues } from "@/lib/schemas/payout-schedules";
import { scheduleAction } from "../actions";

export const metadata: Metadata = { title: "Payout schedules" };
export const dynamic = "force-dynamic";

type Params = Record<string, string | undefined>;

export default async function SchedulesPage({ searchParams }: { searchParams: Promise<Params> }) {
  const params = await searchParams;
  const user = await requirePageUser(["platform_admin", "finance"], "/ops/schedules");
  const canAct = user.role === "platform_admin";
  const parsed = listPayoutSchedulesQuery.safeParse({
    status: params.status || undefined,
    cursor: params.cursor || undefined,
    limit: 50,
  });
  const db = await getDb();
  const result = parsed.success ? await section("schedules", () => listPayoutSchedules(db, parsed.data)) : null;

  return (
    <>
      <h1>Payout schedules</h1>
      <p className="muted">
        Placement shares due to recruiters: each is credited once its invoice is paid and cleared. Failed ones retry
        with back-off; “Try now” works one at once.
      </p>
      <Flash notice={params.notice} error={params.error} />
      <form method="get" className="filters" aria-label="Filter schedules">
        <label>
          Status
          <select name="status" defaultValue={params.status ?? ""}>
            <option value="">All</option>
            {payoutScheduleStatusValues.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      {!parsed.success ? (
        <ErrorState title="Those filters are not valid." error={parsed.error.issues.map((i) => i.message).join("; ")} />
      ) : !result?.ok ? (
        <ErrorState title="Schedules could not be listed." error={result?.error} hint="An old link? Start from the first page." />
      ) : result.data.data.length === 0 ? (
        <EmptyState title="No schedules match">Schedules are created when a placement is recorded.</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="responsive" data-testid="schedules-table">
            <caption className="sr-only">Payout schedules, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Payee</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col">Due</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Retries
                </th>
                <th scope="col">Failure</th>
                {canAct ? <th scope="col">Action</th> : null}
              </tr>
            </thead>
            <tbody>
              {result.data.data.map((s) => (
                <tr key={s.id}>
                  <td data-label="Payee" className="small">
                    <code>{s.payeeId}</code>
                  </td>
                  <td data-label="Amount" className="num">
                    <Money cents={s.amountCents} currency={s.currency} />
                  </td>
                  <td data-label="Due">{formatDate(s.dueAt)}</td>
                  <td data-label="Status">
                    <StatusBadge status={s.status} />
                  </td>
                  <td data-label="Retries" className="num">
                    {s.retryCount}
                  </td>
                  <td data-label="Failure" className="small">
                    {s.failureReason ?? ""}
                  </td>
                  {canAct ? (
                    <td data-label="Action">
                      {s.status === "pending" || s.status === "failed" ? (
                        <form action={scheduleAction} className="inline-form">
                          <input type="hidden" name="scheduleId" value={s.id} />
                          <label className="small">
                            Reason
                            <input name="reason" maxLength={500} />
                          </label>
                          <button type="submit" name="op" value="trigger" className="small">
                            Try now
                          </button>
                          <button type="submit" name="op" value="cancel" className="small secondary">
                            Cancel
                          </button>
                        </form>
                      ) : null}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {result?.ok ? (
        <Pager basePath="/ops/schedules" params={{ status: params.status }} cursorParam="cursor" current={params.cursor} next={result.data.nextCursor} label="Schedules" />
      ) : null}
    </>
  );
}
