import { and, desc, getTableColumns, or, type SQL, sql } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import { type Cursor, decodeCursor, encodeCursor } from "../schemas/common";

// Keyset pagination shared by the admin API lists: newest first by (created_at, id), so a page never
// skips or repeats a row when new rows arrive between requests.

export type PageRequest = { limit: number; cursor?: string };
export type Page<T> = { data: T[]; nextCursor: string | null };

// Pages are keyed on (a timestamp column, id): created_at unless the list orders by another one.
type KeyedTable = { id: PgColumn; createdAt?: PgColumn };
const keyColumn = (table: KeyedTable, at?: PgColumn): PgColumn => at ?? table.createdAt!;

/** The WHERE clause for rows after the cursor (undefined on the first page). */
export function afterCursor(table: KeyedTable, cursor: string | undefined, at?: PgColumn): SQL | undefined {
  const c: Cursor | undefined = decodeCursor(cursor);
  if (!c) return undefined;
  const key = keyColumn(table, at);
  return or(
    sql`${key} < ${c.createdAt}::timestamptz`,
    and(sql`${key} = ${c.createdAt}::timestamptz`, sql`${table.id} < ${c.id}::uuid`),
  );
}

export const newestFirst = (table: KeyedTable, at?: PgColumn) => [desc(keyColumn(table, at)), desc(table.id)];

/**
 * Select a table's columns plus `cursorAt`, its created_at as Postgres prints it. The cursor carries
 * that text, not a JS Date: a Date keeps milliseconds and created_at has microseconds, so two rows
 * written in the same millisecond could otherwise fall between two pages.
 */
export function withCursorKey<T extends PgTable & KeyedTable>(table: T, at?: PgColumn) {
  return { ...getTableColumns(table), cursorAt: sql<string>`${keyColumn(table, at)}::text` };
}

/** Rows fetched with limit + 1 (selected `withCursorKey`) → one page and the cursor of its last row. */
export function toPage<T extends { cursorAt: string; id: string }>(rows: T[], limit: number): Page<Omit<T, "cursorAt">> {
  const data = rows.slice(0, limit).map(({ cursorAt: _cursorAt, ...row }) => row);
  const last = rows[Math.min(rows.length, limit) - 1];
  return { data, nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.cursorAt, id: last.id }) : null };
}

/** Postgres unique_violation (23505), whichever driver raised it and however drizzle wrapped it. */
export function isUniqueViolation(error: unknown): boolean {
  for (let e = error as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === "23505") return true;
  }
  return false;
}
