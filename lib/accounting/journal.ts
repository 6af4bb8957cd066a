import { stringify } from "csv-stringify/sync";
import { type SQL, sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import type postgres from "postgres";
import { type Db, queryRows, serverClientOf } from "../../db/client";
import { type ChartOfAccounts, glAccountOfKey } from "../chart-of-accounts";
import { DomainError } from "../errors";
import { toCents, toDecimalString } from "../money";
import { periodBounds } from "./period";

// The journal export: one CSV row per ledger entry of the transactions effective in a period, with
// the GL account its ledger account books to (lib/chart-of-accounts), ordered by (effective_at,
// transaction, entry) on ledger_transactions_effective_idx.
//
// On a Postgres server it is one statement streamed through a server-side cursor (postgres.js
// `cursor`) on a connection of its own, in a REPEATABLE READ READ ONLY transaction: the file is one
// snapshot, so every transaction is whole and only what was committed before the export started is
// in it (postings made meanwhile, such as Stripe's fees posted with the time Stripe charged them,
// maybe inside the period, never enter half-way). The next batch of rows is asked for while this one
// is formatted; memory stays at a batch or two whatever the period. On the embedded database
// (PGlite, one backend session for every connection) a transaction held open for the whole export
// would stop the app, so there it reads keyset pages of whole transactions, each a short statement
// of its own, and leaves out what was recorded after the export started.
//
// The CSV is RFC 4180, made by csv-stringify (CRLF, quoted where needed, a line break of any kind
// quoted, a cell a spreadsheet would run as a formula (=, +, -, @ first) starting with a quote).

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

/** Rows per batch read from Postgres's cursor. */
export const JOURNAL_CURSOR_ROWS = 1000;
/** How long a read from Postgres's cursor waits for its consumer (a download nobody reads). */
export const JOURNAL_IDLE_MS = 5 * 60_000;
/** Transactions per page on the embedded database (about 2.5 entries each). */
export const JOURNAL_PAGE_TRANSACTIONS = 2000;

export type JournalInput = {
  /** Days (YYYY-MM-DD) in `timeZone`, both included. */
  from: string;
  to: string;
  currency?: string;
  timeZone: string;
  chart: ChartOfAccounts;
  /** Transactions recorded after this are left out (default: those committed when the export starts). */
  recordedBy?: Date;
  /** Rows per batch of the cursor on Postgres; transactions per page on the embedded database. */
  pageSize?: number;
  /** On Postgres, how long the export waits for its consumer to ask for more before giving up its snapshot. */
  idleMs?: number;
};

/** What has been written so far; per currency, debits and credits in cents (equal when done). */
export type JournalProgress = {
  rows: number;
  transactions: number;
  /** The effective day of the last transaction written. */
  through: string | null;
  totals: Map<string, { debit: number; credit: number }>;
  /** The time from asking for each batch to having it (overlaps the formatting of the one before). */
  databaseMs: number;
};

// The columns every read returns, in this order (both ways of reading).
const TX = 0;
const DATE = 1;
const AT = 2;
const ENTRY = 3;
const KIND = 4;
const ACCOUNT_ID = 5;
const ACCOUNT_KEY = 6;
const PAYEE_ID = 7;
const PAYEE_NAME = 8;
const AMOUNT = 9;
const CURRENCY = 10;
const SOURCE_TYPE = 11;
const SOURCE_ID = 12;
const STRIPE_OBJECTS = 13;
const STRIPE_ACCOUNTS = 14;
const DESCRIPTION = 15;
/** The keyset of the embedded database's pages: effective_at as Postgres text. */
const CURSOR_AT = 16;
const PAGE_COLUMNS = [
  "transaction_id",
  "date",
  "effective_at",
  "entry_id",
  "kind",
  "account_id",
  "account_key",
  "payee_id",
  "payee_name",
  "amount",
  "currency",
  "source_type",
  "source_id",
  "stripe_objects",
  "stripe_accounts",
  "description",
  "cursor_at",
] as const;

type Cell = string | number | null;
type Batch = Cell[][];

/** Reads batches of rows, asking for the next one as soon as one is handed out. */
type Reader = {
  /** The next batch, or null at the end. */
  next(): Promise<Batch | null>;
  /** Ends the read, early or not (idempotent): releases the connection. */
  close(): Promise<void>;
};

/**
 * The journal as CSV text, a batch of rows per chunk (the first with the header), for a stream or a
 * file. `progress` has the running totals after each chunk, and the whole file's at the end.
 * Refuses a period whose end is before its start.
 */
export async function* journalCsv(
  db: Db,
  input: JournalInput,
  progress: JournalProgress = newJournalProgress(),
): AsyncGenerator<string, JournalProgress> {
  if (input.from > input.to)
    throw new DomainError("invalid_input", `from (${input.from}) is after to (${input.to})`);
  const { start, end } = periodBounds(input.from, input.to, input.timeZone);
  const client = serverClientOf(db);
  const query = { start, end, currency: input.currency, timeZone: input.timeZone };
  const reader = client
    ? cursorReader(client, journalQuery({ ...query, recordedBy: input.recordedBy }), {
        rows: input.pageSize ?? JOURNAL_CURSOR_ROWS,
        idleMs: input.idleMs ?? JOURNAL_IDLE_MS,
        progress,
      })
    : pageReader(
        db,
        { ...query, recordedBy: input.recordedBy ?? new Date() },
        {
          transactions: input.pageSize ?? JOURNAL_PAGE_TRANSACTIONS,
          progress,
        },
      );
  const formatter = new JournalFormatter(input.chart, progress);
  let header = stringify([], { header: true, columns: [...JOURNAL_COLUMNS], record_delimiter: "windows" });
  try {
    let batch = await reader.next();
    while (batch !== null) {
      const text = header + formatter.format(batch);
      header = "";
      // The next batch was asked for when this one came: it arrives while this one is formatted.
      // Known to be the last, the read ends before the text is handed out (a consumer that never
      // asks for more holds no connection).
      batch = await reader.next();
      if (batch === null) await reader.close();
      if (text !== "") yield text;
    }
    if (header !== "") yield header;
    return progress;
  } finally {
    await reader.close();
  }
}

export function newJournalProgress(): JournalProgress {
  return { rows: 0, transactions: 0, through: null, totals: new Map(), databaseMs: 0 };
}

/** The file name a download of this journal gets. */
export function journalFileName(input: { from: string; to: string; currency?: string }): string {
  return `journal_${input.from}_${input.to}${input.currency ? `_${input.currency}` : ""}.csv`;
}

// csv-stringify's options for every cell. Batches are stringified with NUL as the record delimiter
// (no text from Postgres can hold one: a value that did would be quoted, and the count of records
// would not match, which is refused) so the output splits back into its records; the CSV's own
// records are joined with CRLF. Same quoting and escaping as "windows" records: any \r or \n quotes.
const CELLS = { quote_record_delimiter: true, escape_formulas: true } as const;
const BY_NUL = { ...CELLS, record_delimiter: "\0" } as const;

/**
 * Rows → CSV. csv-stringify encodes each cell on its own and joins a record's cells with commas, so
 * a row is assembled from the encodings of its parts: the transaction's (date, moment, id; kind;
 * source, Stripe ids, description) once per transaction, the account's (GL code and name, ledger
 * account, payee) and the currency's once per export, the entry's (id; debit, credit) per row. The
 * bytes are those of stringifying each whole row (tests/integration/accounting/journal.test.ts
 * compares them), at a third of the cost.
 */
class JournalFormatter {
  private readonly accounts = new Map<string, string>();
  private readonly currencies = new Map<
    string,
    { cell: string; totals: { debit: number; credit: number } }
  >();
  private lastTransaction: string | null = null;
  /** The encoded parts of the last transaction's rows: date, moment and id; kind; source to description. */
  private readonly transactionCells = { dateTimeId: "", kind: "", tail: "" };

  constructor(
    private readonly chart: ChartOfAccounts,
    private readonly progress: JournalProgress,
  ) {}

  format(rows: Batch): string {
    const records: string[][] = [];
    const accountCells: string[] = [];
    const currencyCells: string[] = [];
    const startsTransaction: boolean[] = [];
    const progress = this.progress;
    for (const r of rows) {
      if (r[ENTRY] === null) continue; // a transaction without entries in the currency asked for
      // From the cursor, a transaction's own cells are on its first row only (null on the others).
      const transaction = r[TX] as string | null;
      const first = transaction !== null && transaction !== this.lastTransaction;
      if (first) {
        this.lastTransaction = transaction;
        progress.transactions++;
        progress.through = r[DATE] as string;
        records.push(
          [r[DATE] as string, r[AT] as string, transaction],
          [r[KIND] as string],
          [
            (r[SOURCE_TYPE] as string | null) ?? "",
            (r[SOURCE_ID] as string | null) ?? "",
            (r[STRIPE_OBJECTS] as string | null) ?? "",
            (r[STRIPE_ACCOUNTS] as string | null) ?? "",
            r[DESCRIPTION] as string,
          ],
        );
      }
      startsTransaction.push(first);
      const currency = this.currency(r[CURRENCY] as string);
      const cents = toCents(r[AMOUNT]);
      // Ledger sign (docs/ARCHITECTURE.md): money leaving an account is negative, a debit; arriving, a credit.
      if (cents < 0) currency.totals.debit -= cents;
      else currency.totals.credit += cents;
      records.push(
        [String(r[ENTRY])],
        [
          cents < 0 ? toDecimalString(-cents, r[CURRENCY] as string) : "",
          cents > 0 ? toDecimalString(cents, r[CURRENCY] as string) : "",
        ],
      );
      accountCells.push(this.account(r));
      currencyCells.push(currency.cell);
    }
    progress.rows += accountCells.length;
    if (records.length === 0) return "";
    const encoded = stringify(records, BY_NUL).split("\0");
    // One more than the records: the text ends with a delimiter.
    if (encoded.length !== records.length + 1)
      throw new Error("journal: a value holds a NUL character; the CSV cannot be made");
    let text = "";
    let at = 0;
    // A transaction's rows may continue in the next batch: its parts are kept.
    const t = this.transactionCells;
    for (let i = 0; i < accountCells.length; i++) {
      if (startsTransaction[i]) {
        t.dateTimeId = encoded[at++]!;
        t.kind = encoded[at++]!;
        t.tail = encoded[at++]!;
      }
      const entry = encoded[at++]!;
      const amounts = encoded[at++]!;
      text += `${t.dateTimeId},${entry},${t.kind},${accountCells[i]},${amounts},${currencyCells[i]},${t.tail}\r\n`;
    }
    return text;
  }

  /** gl_code, gl_name, ledger_account, payee_id, payee_name, encoded, once per ledger account. */
  private account(r: Cell[]): string {
    const id = r[ACCOUNT_ID] as string;
    let cells = this.accounts.get(id);
    if (cells === undefined) {
      const key = r[ACCOUNT_KEY] as string;
      const gl = glAccountOfKey(this.chart, key);
      cells = encodeRecord([
        gl.code,
        gl.name,
        key,
        (r[PAYEE_ID] as string | null) ?? "",
        (r[PAYEE_NAME] as string | null) ?? "",
      ]);
      this.accounts.set(id, cells);
    }
    return cells;
  }

  private currency(code: string) {
    let found = this.currencies.get(code);
    if (found === undefined) {
      const totals = this.progress.totals.get(code) ?? { debit: 0, credit: 0 };
      this.progress.totals.set(code, totals);
      found = { cell: encodeRecord([code.toUpperCase()]), totals };
      this.currencies.set(code, found);
    }
    return found;
  }
}

/** One record's cells as csv-stringify writes them, without the record delimiter. */
function encodeRecord(cells: string[]): string {
  return stringify([cells], { ...CELLS, record_delimiter: "windows" }).slice(0, -2);
}

/** The ledger account's key (lib/chart-of-accounts ledgerAccountKey), made by the database. */
const accountKey = sql`case when a.owner_type = 'payee' then 'payee.' || a.kind || '.' || a.location else 'platform.' || a.kind end`;

/** The journal's rows in order, as one statement (for the cursor). Dates are formatted by the database. */
function journalQuery(p: {
  start: Date;
  end: Date;
  recordedBy?: Date;
  currency?: string;
  timeZone: string;
}): SQL {
  const currency = p.currency ? sql`and e.currency = ${p.currency}` : sql``;
  const recorded = p.recordedBy ? sql`and t.created_at <= ${p.recordedBy.toISOString()}::timestamptz` : sql``;
  // The period's transactions in the order of the effective-time index, each with its Stripe
  // references (an index lookup) and its dates formatted once (the subquery is kept whole by
  // `offset 0`, or they would be formatted per entry); then per transaction its entries (an index
  // lookup) with their accounts and payees (a few thousand rows, remembered by the plan: Memoize).
  // Rows flow from the first one, without a sort of the period. A transaction's own cells come on
  // its first row only (null on the others): a third of the bytes to send and to parse.
  const once = (cell: SQL) => sql`case when row_number() over w = 1 then ${cell} end`;
  return sql`
    select ${once(sql`t.id`)}, ${once(sql`t.date`)}, ${once(sql`t.at`)}, e.id::text, ${once(sql`t.kind`)},
           e.account_id::text, ${accountKey}, a.payee_id::text, py.display_name, e.amount::text, e.currency,
           ${once(sql`t.source_type`)}, ${once(sql`t.source_id`)}, ${once(sql`t.objects`)},
           ${once(sql`t.accounts`)}, ${once(sql`t.description`)}
    from (
      select t.effective_at, t.id as uuid, t.id::text as id,
             to_char(t.effective_at at time zone ${p.timeZone}, 'YYYY-MM-DD') as date,
             to_char(t.effective_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at,
             t.kind, t.source_type, t.source_id, t.description, refs.objects, refs.accounts
      from ledger_transactions t
      cross join lateral (
        select string_agg(distinct r.stripe_object, ' ') as objects, string_agg(distinct r.stripe_account, ' ') as accounts
        from ledger_stripe_refs r where r.transaction_id = t.id
      ) refs
      where t.effective_at >= ${p.start.toISOString()}::timestamptz and t.effective_at < ${p.end.toISOString()}::timestamptz
        ${recorded}
      order by t.effective_at, t.id
      offset 0
    ) t
    join ledger_entries e on e.transaction_id = t.uuid ${currency}
    join ledger_accounts a on a.id = e.account_id
    left join payees py on py.id = a.payee_id
    window w as (partition by t.effective_at, t.uuid order by e.id)
    order by t.effective_at, t.uuid, e.id`;
}

/**
 * The statement through a server-side cursor on a connection of its own, in a REPEATABLE READ READ
 * ONLY transaction. A consumer that does not ask for the next batch within `idleMs` loses the read
 * (its next call throws): the connection goes back, the snapshot with it, so a download nobody reads
 * holds neither for long. (No server timeout covers this: a suspended cursor is mid-statement.)
 */
function cursorReader(
  client: postgres.Sql,
  query: SQL,
  options: { rows: number; idleMs: number; progress: JournalProgress },
): Reader {
  const { sql: text, params } = new PgDialect().sqlToQuery(query);
  let reserved: postgres.ReservedSql | null = null;
  let batches: AsyncIterator<Cell[][]> | null = null;
  let inFlight: Promise<IteratorResult<Cell[][]>> | null = null;
  let opened: Promise<void> | null = null;
  let closing: Promise<void> | null = null;
  let finished = false;
  let idle: NodeJS.Timeout | null = null;
  let abandoned = false;
  const ask = () => {
    const asked = performance.now();
    inFlight = batches!.next().then((result) => {
      options.progress.databaseMs += performance.now() - asked;
      return result;
    });
    // Closed before it came: the close waits for it, and wants no error from it.
    inFlight.catch(() => undefined);
  };
  const open = async () => {
    reserved = await client.reserve();
    // One statement is one snapshot; the transaction keeps its cursor open between batches.
    await reserved.unsafe("begin isolation level repeatable read read only");
    // The planner prices the per-transaction lookups high enough to JIT-compile the statement,
    // which costs more than it saves.
    await reserved.unsafe("set local jit = off");
    batches = reserved
      .unsafe(text, params as postgres.ParameterOrJSON<never>[])
      .values()
      .cursor(options.rows)
      [Symbol.asyncIterator]() as AsyncIterator<Cell[][]>;
    ask();
  };
  const close = () => {
    if (idle) clearTimeout(idle);
    closing ??= (async () => {
      await opened?.catch(() => undefined);
      const connection = reserved;
      if (!connection) return;
      try {
        if (!finished) {
          // The batch asked for comes first; then the cursor is closed (postgres.js can only close
          // it between batches).
          const pending = await inFlight?.catch(() => null);
          if (pending && !pending.done) await batches!.return?.();
        }
        await connection.unsafe(finished ? "commit" : "rollback");
      } catch {
        // The read failed: its transaction is aborted, and rollback is all there is to do.
        await connection.unsafe("rollback").catch(() => undefined);
      } finally {
        connection.release();
      }
    })();
    return closing;
  };
  return {
    async next() {
      if (idle) clearTimeout(idle);
      if (abandoned)
        throw new Error(
          `journal export: nobody asked for more for ${options.idleMs / 1000} s; its snapshot was given up`,
        );
      opened ??= open();
      await opened;
      if (finished) return null;
      const result = await inFlight!;
      if (result.done) {
        finished = true;
        return null;
      }
      ask();
      idle = setTimeout(() => {
        abandoned = true;
        void close();
      }, options.idleMs);
      idle.unref();
      return result.value;
    },
    close,
  };
}

/**
 * The embedded database's way: keyset pages of up to `transactions` whole transactions after the
 * last one read, each a short statement of its own, the next asked for as soon as this one's last
 * transaction is known. Only transactions recorded by `recordedBy` are read.
 */
function pageReader(
  db: Db,
  p: { start: Date; end: Date; recordedBy: Date; currency?: string; timeZone: string },
  options: { transactions: number; progress: JournalProgress },
): Reader {
  let inFlight: Promise<Batch> | null = null;
  let done = false;
  const ask = (after: { at: string; id: string } | null) => {
    const asked = performance.now();
    inFlight = journalPage(db, { ...p, after, limit: options.transactions }).then((rows) => {
      options.progress.databaseMs += performance.now() - asked;
      return rows;
    });
    inFlight.catch(() => undefined);
  };
  return {
    async next() {
      if (done) return null;
      if (!inFlight) ask(null);
      const rows = await inFlight!;
      const last = rows.at(-1);
      if (last === undefined || distinctTransactions(rows) < options.transactions) done = true;
      else ask({ at: last[CURSOR_AT] as string, id: last[TX] as string });
      if (rows.length === 0) return null;
      return rows;
    },
    async close() {
      done = true;
      await inFlight?.catch(() => undefined);
    },
  };
}

function distinctTransactions(rows: Batch): number {
  let n = 0;
  let last: Cell = null;
  for (const r of rows) {
    if (r[TX] !== last) n++;
    last = r[TX]!;
  }
  return n;
}

/**
 * One page: up to `limit` transactions after `after`, each with all its entries (or, with a
 * currency, its entries in that currency; a transaction with none still comes, as one row without
 * an entry, so the keyset moves past it). The page's entries, accounts, payees and Stripe
 * references are read per transaction through their indexes (lateral): a hash join would read each
 * whole table once per page.
 */
async function journalPage(
  db: Db,
  p: {
    start: Date;
    end: Date;
    recordedBy: Date;
    currency?: string;
    timeZone: string;
    after: { at: string; id: string } | null;
    limit: number;
  },
): Promise<Batch> {
  const after = p.after
    ? sql`and (t.effective_at, t.id) > (${p.after.at}::timestamptz, ${p.after.id}::uuid)`
    : sql``;
  const currency = p.currency ? sql`and e.currency = ${p.currency}` : sql``;
  const rows = await db.transaction(async (tx) => {
    await tx.execute(sql`set local jit = off`);
    return queryRows<Record<(typeof PAGE_COLUMNS)[number], Cell>>(
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
    select p.id::text as transaction_id,
           to_char(p.effective_at at time zone ${p.timeZone}, 'YYYY-MM-DD') as date,
           to_char(p.effective_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as effective_at,
           e.id::text as entry_id, p.kind, e.account_id::text as account_id, e.account_key,
           e.payee_id::text as payee_id, e.payee_name, e.amount::text as amount, e.currency,
           p.source_type, p.source_id, p.objects as stripe_objects, p.accounts as stripe_accounts,
           p.description, p.effective_at::text as cursor_at
    from paged p
    left join lateral (
      select e.id, e.amount, e.currency, e.account_id, ${accountKey} as account_key, a.payee_id,
             (select py.display_name from payees py where py.id = a.payee_id) as payee_name
      from ledger_entries e join ledger_accounts a on a.id = e.account_id
      where e.transaction_id = p.id ${currency}
      offset 0
    ) e on true
    order by p.effective_at, p.id, e.id`,
    );
  });
  return rows.map((r) => PAGE_COLUMNS.map((c) => r[c]));
}
