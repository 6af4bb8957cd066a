import { type SQL, sql } from "drizzle-orm";
import { zonedInstant } from "../time";

// A guarantee of N days on a hire starting D ends at the first moment of day D+N in the payout time
// zone (PAYOUT_TIMEZONE): the client had the whole of day D+N-1 to report the hire fell through.
// The same rule exists twice, in TypeScript (placement create/update) and in SQL (the backfill),
// and tests/integration/placements pin them to each other.

/** `YYYY-MM-DD` plus whole days, in calendar arithmetic (no time zone involved). */
export function addDays(isoDate: string, days: number): string {
  const [y, m, d] = isoDate.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** The instant local midnight starts `isoDate` in `timeZone` (DST-safe: re-checks the offset). */
export function zonedMidnight(isoDate: string, timeZone: string): Date {
  const [y, m, d] = isoDate.split("-").map(Number) as [number, number, number];
  return zonedInstant(timeZone, y, m, d);
}

/** When a placement's guarantee ends: start date + guarantee days, at 00:00 in `timeZone`. */
export function guaranteeExpiresAt(startDate: string, guaranteeDays: number, timeZone: string): Date {
  return zonedMidnight(addDays(startDate, guaranteeDays), timeZone);
}

/** The same rule as SQL over the placements row, for set-based backfills. */
export function guaranteeExpiresAtSql(timeZone: string): SQL {
  return sql`((start_date + guarantee_days)::timestamp at time zone ${timeZone})`;
}
