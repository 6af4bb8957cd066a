import type { Metadata } from "next";
import { ListResult } from "@/app/_components/list-result";
import { Money } from "@/app/_components/money";
import { Flash } from "@/app/_components/states";
import { StatusBadge } from "@/app/_components/status-badge";
import { requirePageUser } from "@/lib/auth/session";
import { formatDate } from "@/lib/dashboard/format";
import { listPayoutSchedules } from "@/lib/payout-schedules/admin";
import { listPayoutSchedulesQuery, payoutScheduleStatusValues } from "@/lib/schemas/payout-schedules";
import { scheduleAction } from "../actions";
import { FilterForm, StatusFilter } from "../filters";
import { ReasonActionForm } from "../reason-action-form";
import { readFilteredList, type SearchParams } from "../read-list";

export const metadata: Metadata = { title: "Payout schedules" };
export const dynamic = "force-dynamic";

export default async function SchedulesPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const user = await requirePageUser(["platform_admin", "finance"], "/ops/schedules");
  const canAct = user.role === "platform_admin";
  const parsed = listPayoutSchedulesQuery.safeParse({
    status: params.status || undefined,
    cursor: params.cursor || undefined,
    limit: 50,
  });
  const { invalidFilters, result } = await readFilteredList("schedules", parsed, listPayoutSchedules);

  return (
    <>
      <h1>Payout schedules</h1>
      <p className="muted">
        Placement shares due to recruiters: each is credited once its invoice is paid and cleared. Failed ones retry
        with back-off; “Try now” works one at once.
      </p>
      <Flash notice={params.notice} error={params.error} />
      <FilterForm label="Filter schedules">
        <StatusFilter statuses={payoutScheduleStatusValues} value={params.status ?? ""} anyValue="" anyLabel="All" />
      </FilterForm>
      <ListResult
        invalidFilters={invalidFilters}
        result={result}
        rows={(d) => d.data}
        failedTitle="Schedules could not be listed."
        failedHint="An old link? Start from the first page."
        emptyTitle="No schedules match"
        emptyText="Schedules are created when a placement is recorded."
        table={{
          testId: "schedules-table",
          caption: "Payout schedules, newest first",
          rowKey: (s) => s.id,
          columns: [
            { label: "Payee", className: "small", cell: (s) => <code>{s.payeeId}</code> },
            { label: "Amount", num: true, cell: (s) => <Money cents={s.amountCents} currency={s.currency} /> },
            { label: "Due", cell: (s) => formatDate(s.dueAt) },
            { label: "Status", cell: (s) => <StatusBadge status={s.status} /> },
            { label: "Retries", num: true, cell: (s) => s.retryCount },
            { label: "Failure", className: "small", cell: (s) => s.failureReason ?? "" },
            canAct && {
              label: "Action",
              cell: (s) =>
                s.status === "pending" || s.status === "failed" ? (
                  <ReasonActionForm
                    action={scheduleAction}
                    idName="scheduleId"
                    id={s.id}
                    choiceName="op"
                    choices={[
                      { value: "trigger", label: "Try now" },
                      { value: "cancel", label: "Cancel", secondary: true },
                    ]}
                  />
                ) : null,
            },
          ],
        }}
        pager={(d) => ({
          basePath: "/ops/schedules",
          params: { status: params.status },
          cursorParam: "cursor",
          current: params.cursor,
          next: d.nextCursor,
          label: "Schedules",
        })}
      />
    </>
  );
}
