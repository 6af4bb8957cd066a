import type { Metadata } from "next";
import { Money } from "@/app/_components/money";
import { ListResult } from "@/app/_components/list-result";
import { Flash } from "@/app/_components/states";
import { StatusBadge } from "@/app/_components/status-badge";
import { requirePageUser } from "@/lib/auth/session";
import { formatDate } from "@/lib/dashboard/format";
import { listEscrowHolds } from "@/lib/escrow/holds";
import { escrowHoldStatusValues, listEscrowHoldsQuery } from "@/lib/schemas/escrow";
import { endHoldAction } from "../actions";
import { FilterForm, StatusFilter } from "../filters";
import { ReasonActionForm } from "../reason-action-form";
import { readFilteredList, type SearchParams } from "../read-list";

export const metadata: Metadata = { title: "Escrow holds" };
export const dynamic = "force-dynamic";

export default async function HoldsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const user = await requirePageUser(["platform_admin", "finance"], "/ops/holds");
  const canAct = user.role === "platform_admin";
  const status = params.status === "all" ? undefined : (params.status ?? "active");
  const parsed = listEscrowHoldsQuery.safeParse({ status, cursor: params.cursor || undefined, limit: 50 });
  const { invalidFilters, result } = await readFilteredList("holds", parsed, listEscrowHolds);

  return (
    <>
      <h1>Escrow holds</h1>
      <p className="muted">Money kept back from a payee&apos;s available balance: placement guarantees, reserves, disputes.</p>
      <Flash notice={params.notice} error={params.error} />
      <FilterForm label="Filter holds">
        <StatusFilter statuses={escrowHoldStatusValues} value={params.status ?? "active"} anyValue="all" anyLabel="All" />
      </FilterForm>
      <ListResult
        invalidFilters={invalidFilters}
        result={result}
        rows={(d) => d.data}
        failedTitle="Holds could not be listed."
        failedHint="An old link? Start from the first page."
        emptyTitle="No holds match"
        emptyText="Holds appear when a placement starts its guarantee or ops hold money."
        table={{
          testId: "holds-table",
          caption: "Escrow holds, newest first",
          rowKey: (h) => h.id,
          columns: [
            { label: "Payee", className: "small", cell: (h) => <code>{h.payeeId}</code> },
            { label: "Kind", cell: (h) => h.kind.replaceAll("_", " ") },
            { label: "Amount", num: true, cell: (h) => <Money cents={h.amountCents} currency={h.currency} /> },
            {
              label: "Status",
              cell: (h) => (
                <>
                  <StatusBadge status={h.status} />
                  {h.holdLedgerTransactionId === null && h.status === "active" ? <span className="badge">not funded yet</span> : null}
                </>
              ),
            },
            { label: "Releases", cell: (h) => formatDate(h.releaseAt) },
            { label: "Reason", cell: (h) => h.reason },
            canAct && {
              label: "Action",
              cell: (h) =>
                h.status === "active" ? (
                  <ReasonActionForm
                    action={endHoldAction}
                    idName="holdId"
                    id={h.id}
                    choiceName="outcome"
                    choices={[
                      { value: "released", label: "Release now" },
                      { value: "cancelled", label: "Cancel hold", secondary: true },
                    ]}
                  />
                ) : null,
            },
          ],
        }}
        pager={(d) => ({
          basePath: "/ops/holds",
          params: { status: params.status },
          cursorParam: "cursor",
          current: params.cursor,
          next: d.nextCursor,
          label: "Holds",
        })}
      />
    </>
  );
}
