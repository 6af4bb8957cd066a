import { stringify } from "csv-stringify/sync";
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { DomainError } from "../errors";
import { toCents, toDecimalString } from "../money";
import { type ChartOfAccounts, glAccountOf, ledgerAccountKey } from "../chart-of-accounts";
import { periodBounds } from "./period";

// The journal export: one CSV row per ledger entry of the transactions effective in a period, with
// the GL account its ledger account books to (lib/chart-of-accounts). Read in keyset pages of whole
// transactions, by (effective_at, id) on ledger_transactions_effective_idx, each page a short query
// of its own: memory stays at one page whatever the period, no transaction is held open while a
// slow client reads, and every page holds whole transactions, so each balances in the file. Only
// transactions recorded before the export started are read, so postings made meanwhile (Stripe's
// fees are posted with the time Stripe charged them, maybe inside the period) never enter half-way.
// The CSV is RFC 4180 (csv-stringify: CRLF, quoted where needed), and a cell a spreadsheet would run
// as a formula (=, +, -, @ first) starts with a quote instead.

export const JOURNAL_COLUMNS = [
  "date",
  "effective_at",
  "transaction_id",
  "entry_id",
  "kind",
  "gl_code",
  "gl_name",
  "ledger_account",
  "payee_id",
  "payee_name",
  "debit",
  "credit",
  "currency",
  "source_type",
  "source_id",
  "stripe_objects",
  "stripe_accounts",
  "description",
] as const;

/** Transactions per page (about 2.5 entries each). */
export const JOURNAL_PAGE_TRANSACTIONS = 2000;

export type JournalInput = {
  /** Days (YYYY-MM-DD) in `timeZone`, both included. */
  from: string;
  to: string;
  currency?: string;
  timeZone: string;
  chart: ChartOfAccounts;
  /** Transactions recorded after this are left out (default: when the export starts). */
  recordedBy?: Date;
  pageTransactions?: number;
};

/** What has been written so far; per currency, debits and credits in cents (equal when done). */
export type JournalProgress = {
  rows: number;
  transactions: number;
  /** The effective day of the last transaction written. */
  through: string | null;
  totals: Map<string, { debit: number; credit: number }>;
  /** The time the database took for the pages (fetched while the previous page is formatted). */
  databaseMs: number;
};

type Row = {
  transaction_id: string;
  kind: string;
  description: string;
  source_type: string | null;
  source_id: string | null;
  cursor_at: string;
  date: string;
  effective_at: string;
  entry_id: string | number | null;
  amount: string | number | null;
  currency: string | null;
  owner_type: "payee" | "platform" | null;
  account_kind: string | null;
  location: string | null;
  payee_id: string | null;
  payee_name: string | null;
  stripe_objects: string | null;
  stripe_accounts: string | null;
};

/**
 * The journal as CSV text, a page of whole transactions per chunk (the first with the header), for
 * a stream or a file. `onProgress` sees the running totals after each chunk; `progress` has them at
 * the end. Refuses a period whose end is before its start.
 */
export async function* journalCsv(
  db: Db,
  input: JournalInput,
  progress: JournalProgress = newJournalProgress(),
): AsyncGenerator<string, JournalProgress> {
  if (input.from > input.to)
    throw new DomainError("invalid_input", `from (${input.from}) is after to (${input.to})`);
  const { start, end } = periodBounds(input.from, input.to, input.timeZone);
  const recordedBy = input.recordedBy ?? new Date();
  const limit = input.pageTransactions ?? JOURNAL_PAGE_TRANSACTIONS;
  const gl = glLookup(input.chart);
  let header = true;
  // The next page is asked for as soon as this one's last transaction is known, so the database
  // works on it while this one is formatted and written.
  const fetchPage = (cursor: { at: string; id: string } | null) => {
    const asked = performance.now();
    const page = journalPage(db, {
      start,
      end,
      recordedBy,
      currency: input.currency,
      timeZone: input.timeZone,
      cursor,
      limit,
    });
    return page.then((rows) => {
      progress.databaseMs += performance.now() - asked;
      return rows;
    });
  };
  let next = fetchPage(null);
  let pending: Promise<Row[]> | null = next;
  try {
    for (;;) {
      const rows = await next;
      pending = null;
      const last = rows.at(-1);
      const more = last !== undefined && distinctTransactions(rows) >= limit;
      if (more) {
        next = fetchPage({ at: last.cursor_at, id: last.transaction_id });
        pending = next;
      }
      const records: string[][] = [];
      let lastTransaction: string | null = null;
      for (const r of rows) {
        if (r.transaction_id !== lastTransaction) {
          lastTransaction = r.transaction_id;
          progress.through = r.date;
        }
        if (r.entry_id === null || r.amount === null || r.currency === null || r.owner_type === null)
          continue;
        const cents = toCents(r.amount);
        const account = gl(r.owner_type, r.account_kind!, r.location!);
        const totals = progress.totals.get(r.currency) ?? { debit: 0, credit: 0 };
        // Ledger sign (docs/ARCHITECTURE.md): money leaving an account is negative, a debit; arriving, a credit.
        if (cents < 0) totals.debit += -cents;
        else totals.credit += cents;
        progress.totals.set(r.currency, totals);
        records.push([
          r.date,
          r.effective_at,
          r.transaction_id,
          String(r.entry_id),
          r.kind,
          account.code,
          account.name,
          account.key,
          r.payee_id ?? "",
          r.payee_name ?? "",
          cents < 0 ? toDecimalString(-cents, r.currency) : "",
          cents > 0 ? toDecimalString(cents, r.currency) : "",
          r.currency.toUpperCase(),
          r.source_type ?? "",
          r.source_id ?? "",
          r.stripe_objects ?? "",
          r.stripe_accounts ?? "",
          r.description,
        ]);
      }
      progress.rows += records.length;
      progress.transactions += countTransactions(rows, input.currency !== undefined);
      const text = stringify(records, {
        header,
        columns: header ? [...JOURNAL_COLUMNS] : undefined,
        record_delimiter: "windows",
        // A line break of any kind inside a field is quoted (with record_delimiter set, csv-stringify
        // would quote only CRLF, and a lone \n would split the record for most readers).
        quote_record_delimiter: true,
        escape_formulas: true,
      });
      header = false;
      if (text !== "") yield text;
      if (!more) return progress;
    }
  } finally {
    // Stopped early (a client that went away): the page in flight is not wanted, nor its error.
    pending?.catch(() => undefined);
  }
}

export function newJournalProgress(): JournalProgress {
  return { rows: 0, transactions: 0, through: null, totals: new Map(), databaseMs: 0 };
}

/** The file name a download of this journal gets. */
export function journalFileName(input: { from: string; to: string; currency?: string }): string {
  return `journal_${input.from}_${input.to}${input.currency ? `_${input.currency}` : ""}.csv`;
}

/** Ledger account → GL account, by (owner, kind, location), resolved once per export. */
function glLookup(chart: ChartOfAccounts) {
  const cache = new Map<string, { code: string; name: string; key: string }>();
  return (ownerType: "payee" | "platform", kind: string, location: string) => {
    const key = ledgerAccountKey(ownerType, kind, location);
    let found = cache.get(key);
    if (!found) {
      found = { ...glAccountOf(chart, ownerType, kind, location), key };
      cache.set(key, found);
    }
    return found;
  };
}

function distinctTransactions(rows: Row[]): number {
  let n = 0;
  let last: string | null = null;
  for (const r of rows) {
    if (r.transaction_id !== last) n++;
    last = r.transaction_id;
  }
  return n;
}

/** Transactions with a row in the file (with a currency filter, only those with entries in it). */
function countTransactions(rows: Row[], filtered: boolean): number {
  if (!filtered) return distinctTransactions(rows);
  return distinctTransactions(rows.filter((r) => r.entry_id !== null));
}

/**
 * One page: up to `limit` transactions after the cursor, each with all its entries (or, with a
 * currency, its entries in that currency; a transaction with none still comes, as one row without
 * an entry, so the cursor moves past it). Dates are formatted by the database. The page's entries,
 * accounts, payees and Stripe references are read per transaction through their indexes (lateral):
 * a hash join would read each whole table once per page.
 */
async function journalPage(
  db: Db,
  p: {
    start: Date;
    end: Date;
    recordedBy: Date;
    currency?: string;
    timeZone: string;
    cursor: { at: string; id: string } | null;
    limit: number;
  },
): Promise<Row[]> {
  const after = p.cursor
    ? sql`and (t.effective_at, t.id) > (${p.cursor.at}::timestamptz, ${p.cursor.id}::uuid)`
    : sql``;
  const currency = p.currency ? sql`and e.currency = ${p.currency}` : sql``;
  // The planner prices the per-transaction lookups high enough to JIT-compile the query (40-60 ms
  // a page on the real server, more than running it): off, for this statement's transaction only.
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local jit = off`);
    return queryRows<Row>(
      tx,
      sql`
    with page as materialized (
      select t.id, t.kind, t.description, t.source_type, t.source_id, t.effective_at
      from ledger_transactions t
      where t.effective_at >= ${p.start.toISOString()}::timestamptz and t.effective_at < ${p.end.toISOString()}::timestamptz
        and t.created_at <= ${p.recordedBy.toISOString()}::timestamptz ${after}
      order by t.effective_at, t.id
      limit ${p.limit}
    ),
    paged as materialized (
      select page.*, refs.objects, refs.accounts
      from page left join lateral (
        select string_agg(distinct r.stripe_object, ' ') as objects, string_agg(distinct r.stripe_account, ' ') as accounts
        from ledger_stripe_refs r where r.transaction_id = page.id
      ) refs on true
    )
    select p.id as transaction_id, p.kind, p.description, p.source_type, p.source_id,
           p.effective_at::text as cursor_at,
           to_char(p.effective_at at time zone ${p.timeZone}, 'YYYY-MM-DD') as date,
           to_char(p.effective_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as effective_at,
           e.id as entry_id, e.amount, e.currency,
           e.owner_type, e.account_kind, e.location, e.payee_id, e.payee_name,
           p.objects as stripe_objects, p.accounts as stripe_accounts
    from paged p
    left join lateral (
      select e.id, e.amount, e.currency, a.owner_type, a.kind as account_kind, a.location, a.payee_id,
             (select py.display_name from payees py where py.id = a.payee_id) as payee_name
      from ledger_entries e join ledger_accounts a on a.id = e.account_id
      where e.transaction_id = p.id ${currency}
      offset 0
    ) e on true
    order by p.effective_at, p.id, e.id`,
    );
  });
}
