import { and, desc, or, type SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { type Cursor, decodeCursor, encodeCursor } from "../schemas/common";

// Keyset pagination shared by the admin API lists: newest first by (created_at, id), so a page never
// skips or repeats a row when new rows arrive between requests.

export type PageRequest = { limit: number; cursor?: string };
export type Page<T> = { data: T[]; nextCursor: string | null };

type KeyedTable = { createdAt: PgColumn; id: PgColumn };

/** The WHERE clause for rows after the cursor (undefined on the first page). */
export function afterCursor(table: KeyedTable, cursor: string | undefined): SQL | undefined {
  const c: Cursor | undefined = decodeCursor(cursor);
  if (!c) return undefined;
  return or(
    sql`${table.createdAt} < ${c.createdAt}::timestamptz`,
    and(sql`${table.createdAt} = ${c.createdAt}::timestamptz`, sql`${table.id} < ${c.id}::uuid`),
  );
}

export const newestFirst = (table: KeyedTable) => [desc(table.createdAt), desc(table.id)];

/** Rows fetched with limit + 1 → one page and the cursor of its last row. */
export function toPage<T extends { createdAt: Date; id: string }>(rows: T[], limit: number): Page<T> {
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return { data, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}

/** Postgres unique_violation (23505), whichever driver raised it and however drizzle wrapped it. */
export function isUniqueViolation(error: unknown): boolean {
  for (let e = error as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === "23505") return true;
  }
  return false;
}
