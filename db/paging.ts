import { desc, getTableColumns, type SQL, sql } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import { DomainError } from "../lib/errors";

// The one keyset pager: newest first by (a timestamp, id), so a page never skips or repeats a row
// when rows arrive between requests. The admin API lists, the replay list, the run history, a
// payee's payouts and a payee's ledger history all page with it, through the builder or raw SQL.
//
// The cursor carries the timestamp as Postgres prints it (`::text`), not a JS Date: a Date keeps
// milliseconds and the columns have microseconds, so two rows written in the same millisecond could
// otherwise fall between two pages. A cursor this code did not hand out is a CursorError (400), the
// same everywhere; it is checked down to the calendar, so Postgres never sees a value it would reject.

export type PageRequest = { limit: number; cursor?: string | null };
export type Page<T> = { data: T[]; nextCursor: string | null };
export type CursorKey = { at: string; id: string };

export class CursorError extends DomainError {
  constructor() {
    super("bad_cursor", "cursor is not one this API handed out; start from the first page");
    this.name = "CursorError";
  }
}

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// 2026-11-20 10:00:00.1231+00, as timestamptz::text prints it (or with a T and Z, as ISO does).
const PG_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2}){0,2})?$/;

function isTimestampText(text: string): boolean {
  const m = PG_TIMESTAMP.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate(); // month is 1-based: day 0 of the next
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const lastDay = month === 2 && !leap ? 28 : daysInMonth;
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= lastDay && hour < 24 && minute < 60 && second < 60;
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([key.at, key.id]), "utf8").toString("base64url");
}

/** Undefined for no cursor; a CursorError for anything this pager did not hand out. */
export function decodeCursor(raw: string | null | undefined): CursorKey | undefined {
  if (!raw) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    throw new CursorError();
  }
  if (!Array.isArray(value) || value.length !== 2) throw new CursorError();
  const [at, id] = value as unknown[];
  if (typeof at !== "string" || typeof id !== "string" || !isTimestampText(at) || !UUID_TEXT.test(id)) {
    throw new CursorError();
  }
  return { at, id };
}

/** `(key, id) < (cursor)`: the rows after the cursor, or undefined on the first page. */
export function afterCursor(key: PgColumn | SQL, id: PgColumn | SQL, cursor: string | null | undefined): SQL | undefined {
  const c = decodeCursor(cursor);
  if (!c) return undefined;
  return sql`(${key}, ${id}) < (${c.at}::timestamptz, ${c.id}::uuid)`;
}

/** The cursor after the last row of a page fetched with limit + 1 rows, or null on the last page. */
export function nextCursor<T>(rows: T[], limit: number, keyOf: (row: T) => CursorKey): string | null {
  const last = rows[limit - 1];
  return rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null;
}

// The builder's side: tables keyed on (created_at, id) unless the list orders by another column.
type KeyedTable = { id: PgColumn; createdAt?: PgColumn };
const keyColumn = (table: KeyedTable, at?: PgColumn): PgColumn => at ?? table.createdAt!;

export const afterTableCursor = (table: KeyedTable, cursor: string | null | undefined, at?: PgColumn) =>
  afterCursor(keyColumn(table, at), table.id, cursor);

export const newestFirst = (table: KeyedTable, at?: PgColumn) => [desc(keyColumn(table, at)), desc(table.id)];

/** A table's columns plus `cursorAt`, its key column as Postgres prints it. */
export function withCursorKey<T extends PgTable & KeyedTable>(table: T, at?: PgColumn) {
  return { ...getTableColumns(table), cursorAt: sql<string>`${keyColumn(table, at)}::text` };
}

/** Rows fetched with limit + 1 (selected `withCursorKey`) → one page and the cursor of its last row. */
export function toPage<T extends { cursorAt: string; id: string }>(rows: T[], limit: number): Page<Omit<T, "cursorAt">> {
  const data = rows.slice(0, limit).map(({ cursorAt: _cursorAt, ...row }) => row);
  return { data, nextCursor: nextCursor(rows, limit, (row) => ({ at: row.cursorAt, id: row.id })) };
}

/** Postgres unique_violation (23505), whichever driver raised it and however drizzle wrapped it. */
export function isUniqueViolation(error: unknown): boolean {
  for (let e = error as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === "23505") return true;
  }
  return false;
}
