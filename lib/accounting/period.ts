import { zonedInstant } from "../time";

// Days in the books' time zone (ACCOUNTING_TIMEZONE) as instants: a day runs from its midnight to
// the next day's, excluded.

/** The start of `date` (YYYY-MM-DD) in `timeZone`. */
export function startOfDay(date: string, timeZone: string): Date {
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  return zonedInstant(timeZone, year, month, day);
}

/** The start of the day after `date` in `timeZone`: the end (excluded) of `date`. */
export function endOfDay(date: string, timeZone: string): Date {
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  const next = new Date(Date.UTC(year, month - 1, day + 1));
  return zonedInstant(timeZone, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate());
}

/** [start, end) of the days from..to (both included) in `timeZone`. */
export function periodBounds(from: string, to: string, timeZone: string): { start: Date; end: Date } {
  return { start: startOfDay(from, timeZone), end: endOfDay(to, timeZone) };
}
