import type { Metadata } from "next";
import { Money } from "@/app/_components/money";
import { Pager } from "@/app/_components/pager";
import { EmptyState, ErrorState, Flash } from "@/app/_components/states";
import { StatusBadge } from "@/app/_components/status-badge";
import { getDb } from "@/db/client";
import { requirePageUser } from "@/lib/auth/session";
import { formatDate } from "@/lib/dashboard/format";
import { section } from "@/lib/dashboard/section";
import { listEscrowHolds } from "@/lib/escrow/holds";
import { escrowHoldStatusValues, listEscrowHoldsQuery } from "@/lib/schemas/escrow";
import { endHoldAction } from "../actions";

export const metadata: Metadata = { title: "Escrow holds" };
export const dynamic = "force-dynamic";

type Params = Record<string, string | undefined>;

export default async function HoldsPage({ searchParams }: { searchParams: Promise<Params> }) {
  const params = await searchParams;
  const user = await requirePageUser(["platform_admin", "finance"], "/ops/holds");
  const canAct = user.role === "platform_admin";
  const status = params.status === "all" ? undefined : (params.status ?? "active");
  const parsed = listEscrowHoldsQuery.safeParse({ status, cursor: params.cursor || undefined, limit: 50 });
  const db = await getDb();
  const result = parsed.success ? await section("holds", () => listEscrowHolds(db, parsed.data)) : null;

  return (
    <>
      <h1>Escrow holds</h1>
      <p className="muted">Money kept back from a payee&apos;s available balance: placement guarantees, reserves, disputes.</p>
      <Flash notice={params.notice} error={params.error} />
      <form method="get" className="filters" aria-label="Filter holds">
        <label>
          Status
          <select name="status" defaultValue={params.status ?? "active"}>
            <option value="all">All</option>
            {escrowHoldStatusValues.map((s) => (
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
        <ErrorState title="Holds could not be listed." error={result?.error} hint="An old link? Start from the first page." />
      ) : result.data.data.length === 0 ? (
        <EmptyState title="No holds match">Holds appear when a placement starts its guarantee or ops hold money.</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="responsive" data-testid="holds-table">
            <caption className="sr-only">Escrow holds, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Payee</th>
                <th scope="col">Kind</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col">Status</th>
                <th scope="col">Releases</th>
                <th scope="col">Reason</th>
                {canAct ? <th scope="col">Action</th> : null}
              </tr>
            </thead>
            <tbody>
              {result.data.data.map((h) => (
                <tr key={h.id}>
                  <td data-label="Payee" className="small">
                    <code>{h.payeeId}</code>
                  </td>
                  <td data-label="Kind">{h.kind.replaceAll("_", " ")}</td>
                  <td data-label="Amount" className="num">
                    <Money cents={h.amountCents} currency={h.currency} />
                  </td>
                  <td data-label="Status">
                    <StatusBadge status={h.status} />
                    {h.holdLedgerTransactionId === null && h.status === "active" ? <span className="badge">not funded yet</span> : null}
                  </td>
                  <td data-label="Releases">{formatDate(h.releaseAt)}</td>
                  <td data-label="Reason">{h.reason}</td>
                  {canAct ? (
                    <td data-label="Action">
                      {h.status === "active" ? (
                        <form action={endHoldAction} className="inline-form">
                          <input type="hidden" name="holdId" value={h.id} />
                          <label className="small">
                            Reason
                            <input name="reason" maxLength={500} />
                          </label>
                          <button type="submit" name="outcome" value="released" className="small">
                            Release now
                          </button>
                          <button type="submit" name="outcome" value="cancelled" className="small secondary">
                            Cancel hold
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
        <Pager basePath="/ops/holds" params={{ status: params.status }} cursorParam="cursor" current={params.cursor} next={result.data.nextCursor} label="Holds" />
      ) : null}
    </>
  );
}
