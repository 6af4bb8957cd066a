import { randomUUID } from "node:crypto";
import type { Metadata } from "next";
import { ListResult } from "@/app/_components/list-result";
import { Money } from "@/app/_components/money";
import { Flash } from "@/app/_components/states";
import { StatusBadge } from "@/app/_components/status-badge";
import { getDb } from "@/db/client";
import { breakKinds } from "@/db/schema";
import { requirePageUser } from "@/lib/auth/session";
import { getEnv } from "@/lib/env";
import { formatDate } from "@/lib/dashboard/format";
import { listBreaks } from "@/lib/reconciliation/breaks";
import { reconciliationHealth } from "@/lib/reconciliation/health";
import { payoutsMissingTransfers } from "@/lib/reconciliation/payouts";
import { JOURNAL_MAX_DAYS } from "@/lib/schemas/accounting";
import { listBreaksQuery } from "@/lib/schemas/reconciliation";
import { FilterForm } from "../filters";
import { readFilteredList, type SearchParams } from "../read-list";
import { reconcileNowAction, recordOutOfBandPayoutAction, resolveBreakAction } from "./actions";

export const metadata: Metadata = { title: "Reconciliation" };
export const dynamic = "force-dynamic";

const KIND_HELP: Record<(typeof breakKinds)[number], string> = {
  missing_in_ledger: "Stripe moved money Payrun has no posting for",
  missing_at_stripe: "the ledger expects money Stripe does not show",
  amount_mismatch: "both know it, the amounts differ",
  currency_mismatch: "recorded in another currency than Stripe moved it in",
  payout_missing_transfers: "a payout Payrun did not make (by hand, or an automatic schedule)",
  balance_drift: "the account's balance at Stripe differs from the ledger's",
};

/** The first and last day of last month, as the export's default range. */
function lastMonth(now = new Date()): { from: string; to: string } {
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0));
  return { from: first.toISOString().slice(0, 10), to: last.toISOString().slice(0, 10) };
}

export default async function ReconciliationPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const user = await requirePageUser(["platform_admin", "finance"], "/ops/reconciliation");
  const canAct = user.role === "platform_admin";
  const db = await getDb();
  const health = await reconciliationHealth(db);
  const missing = await payoutsMissingTransfers(db);
  const kind = breakKinds.find((k) => k === params.kind);
  const parsed = listBreaksQuery.safeParse({ kind, cursor: params.cursor || undefined, limit: 50 });
  const { invalidFilters, result } = await readFilteredList("breaks", parsed, listBreaks);
  const pass = health.reconciliation.lastPass;
  const range = lastMonth();
  const timeZone = getEnv().ACCOUNTING_TIMEZONE;

  return (
    <>
      <h1>Reconciliation</h1>
      <p className="muted">
        Every hour Payrun reads Stripe&apos;s balance transactions for the platform and every connected account and matches
        them with the ledger, object by object, and each account&apos;s balance with what the ledger says the payee holds there.
      </p>
      <Flash notice={params.notice} error={params.error} />

      <section aria-labelledby="last-pass">
        <h2 id="last-pass">Last pass</h2>
        {pass ? (
          <dl className="facts" data-testid="last-pass">
            <dt>Status</dt>
            <dd>
              <StatusBadge status={pass.status} />
            </dd>
            <dt>Started</dt>
            <dd>{formatDate(pass.startedAt)}</dd>
            <dt>Finished</dt>
            <dd>{pass.finishedAt ? formatDate(pass.finishedAt) : "still running"}</dd>
            <dt>Accounts</dt>
            <dd>
              {pass.accountsDone} of {pass.accountsTotal}
              {pass.failures > 0 ? ` (${pass.failures} failed; tried again next pass)` : ""}
            </dd>
            <dt>Balance transactions read</dt>
            <dd>{pass.transactionsIngested}</dd>
            <dt>Breaks</dt>
            <dd>
              {pass.breaksOpened} found, {pass.breaksClosed} closed by themselves
            </dd>
          </dl>
        ) : (
          <p className="muted">No pass yet: the first runs at minute 54 of the hour.</p>
        )}
        {canAct ? (
          <form action={reconcileNowAction}>
            <button type="submit">Reconcile now</button>
          </form>
        ) : null}
      </section>

      <section aria-labelledby="missing-transfers">
        <h2 id="missing-transfers">Payouts missing transfers (last 24 hours): {missing.last24h}</h2>
        {missing.payouts.length === 0 ? (
          <p className="muted">Every payout on a connected account carried Payrun&apos;s money.</p>
        ) : (
          <ul data-testid="missing-transfers">
            {missing.payouts.map((p) => (
              <li key={p.payout}>
                <code>{p.payout}</code> on <code>{p.account}</code>: <Money cents={p.amount} currency={p.currency} />
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="open-by-kind">
        <h2 id="open-by-kind">Open breaks by kind</h2>
        {health.reconciliation.openBreaks.length === 0 ? (
          <p className="muted" data-testid="no-breaks">
            No open breaks: the ledger and Stripe agree to the cent.
          </p>
        ) : (
          <table data-testid="breaks-by-kind">
            <caption>Open breaks by kind, with what Stripe shows less what the ledger expects</caption>
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Meaning</th>
                <th scope="col" className="num">
                  Breaks
                </th>
                <th scope="col" className="num">
                  Difference
                </th>
              </tr>
            </thead>
            <tbody>
              {health.reconciliation.openBreaks.map((b) => (
                <tr key={`${b.kind}-${b.currency}`}>
                  <td>
                    <a href={`/ops/reconciliation?kind=${b.kind}`}>{b.kind.replaceAll("_", " ")}</a>
                  </td>
                  <td className="small">{KIND_HELP[b.kind]}</td>
                  <td className="num">{b.breaks}</td>
                  <td className="num">{b.currency ? <Money cents={b.difference} currency={b.currency} /> : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="breaks">
        <h2 id="breaks">Open breaks{kind ? `: ${kind.replaceAll("_", " ")}` : ""}</h2>
        <FilterForm label="Filter breaks">
          <label>
            Kind
            <select name="kind" defaultValue={kind ?? ""}>
              <option value="">All kinds</option>
              {breakKinds.map((k) => (
                <option key={k} value={k}>
                  {k.replaceAll("_", " ")}
                </option>
              ))}
            </select>
          </label>
        </FilterForm>
        <ListResult
          invalidFilters={invalidFilters}
          result={result}
          rows={(d) => d.data}
          failedTitle="Breaks could not be listed."
          failedHint="An old link? Start from the first page."
          emptyTitle="No open breaks"
          emptyText="A difference between the ledger and Stripe shows here within the hour."
          table={{
            testId: "breaks-table",
            caption: "Open breaks, newest first",
            rowKey: (b) => b.id,
            columns: [
              { label: "Kind", cell: (b) => b.kind.replaceAll("_", " ") },
              { label: "Account", className: "small", cell: (b) => <code>{b.account}</code> },
              { label: "Stripe object", className: "small", cell: (b) => (b.stripeObject ? <code>{b.stripeObject}</code> : "balance") },
              {
                label: "At Stripe",
                num: true,
                cell: (b) => (b.stripeAmount === null || !b.currency ? "—" : <Money cents={b.stripeAmount} currency={b.currency} />),
              },
              {
                label: "In the ledger",
                num: true,
                cell: (b) => (b.ledgerAmount === null || !b.currency ? "—" : <Money cents={b.ledgerAmount} currency={b.currency} />),
              },
              { label: "First seen", cell: (b) => formatDate(b.firstSeenAt) },
              canAct && {
                label: "Resolve",
                cell: (b) => (
                  <form action={resolveBreakAction} className="inline-form">
                    <input type="hidden" name="breakId" value={b.id} />
                    <label className="small">
                      Why is it accepted?
                      <input name="reason" required minLength={3} maxLength={1000} />
                    </label>
                    <button type="submit" className="small">
                      Resolve
                    </button>
                  </form>
                ),
              },
            ],
          }}
          pager={(d) => ({
            basePath: "/ops/reconciliation",
            params: { kind },
            cursorParam: "cursor",
            current: params.cursor,
            next: d.nextCursor,
            label: "Breaks",
          })}
        />
      </section>

      <section aria-labelledby="export">
        <h2 id="export">Export for the books</h2>
        <form method="get" action="/api/v1/accounting/journal.csv" className="filters" aria-label="Export the journal">
          <label>
            From
            <input type="date" name="from" defaultValue={range.from} required />
          </label>
          <label>
            To
            <input type="date" name="to" defaultValue={range.to} required />
          </label>
          <label>
            Currency
            <input name="currency" placeholder="all" maxLength={3} pattern="[A-Za-z]{3}" size={4} />
          </label>
          <button type="submit">Download journal (CSV)</button>
        </form>
        <form method="get" action="/api/v1/accounting/trial-balance" className="filters" aria-label="Trial balance">
          <label>
            At the close of
            <input type="date" name="at" defaultValue={range.to} required />
          </label>
          <button type="submit">Trial balance</button>
        </form>
        <p className="muted small">
          One row per ledger entry with its GL account; days in {timeZone}, both included, at most{" "}
          {JOURNAL_MAX_DAYS} per download (longer: <code>npm run accounting:export</code>). The trial balance
          is JSON. See docs/ACCOUNTING.md.
        </p>
      </section>

      {canAct ? (
        <section aria-labelledby="out-of-band">
          <h2 id="out-of-band">Record a payout made at Stripe</h2>
          <p className="muted">
            When Payrun was down and a payee was paid by hand in the Stripe Dashboard: the ledger moves the amount from their
            available balance to paid. Without the Stripe payout id, the next pass links the payout of that amount.
          </p>
          <form action={recordOutOfBandPayoutAction} className="stacked-form" aria-label="Record a payout made at Stripe">
            <input type="hidden" name="requestKey" value={randomUUID()} />
            <label>
              Payee id
              <input name="payeeId" required pattern="[0-9a-fA-F-]{36}" />
            </label>
            <label>
              Amount
              <input name="amount" required inputMode="decimal" placeholder="45.00" />
            </label>
            <label>
              Currency
              <input name="currency" required defaultValue="usd" maxLength={3} />
            </label>
            <label>
              Stripe payout id (optional)
              <input name="stripePayoutId" placeholder="po_..." />
            </label>
            <label>
              Reason
              <input name="reason" required minLength={3} maxLength={1000} placeholder="ticket: Payrun down, paid by hand" />
            </label>
            <button type="submit">Record payout</button>
          </form>
        </section>
      ) : null}
    </>
  );
}
