import { sql } from "drizzle-orm";

/** Real failures (not "the invoice is not paid yet") are tried this many times, then the row is failed. */
export const MAX_SCHEDULE_RETRIES = 3;
/** A sweep working on a schedule holds it this long; a crashed worker's row is picked up after. */
export const SCHEDULE_LEASE_MS = 10 * 60_000;

/** Wait before the next try after the n-th failure: 15 min, 1 h, 4 h. */
export function scheduleBackoffMs(retryCount: number): number {
  return 15 * 60_000 * 4 ** Math.max(0, retryCount - 1);
}

/**
 * SQL over `s` (payout_schedules), `p` (placements) and `i` (placement_invoices): the schedule may be
 * worked now. Collectible = guarantee completed and the invoice paid at least the clearing delay
 * ago. A void or uncollectible invoice is also claimed, to fail the schedule and alert someone.
 * Anything else (unpaid, draft, no invoice yet) is left pending untouched: waiting is not failing.
 */
export function workableScheduleSql(nowIso: string, clearingDelayHours: number) {
  return sql`p.status = 'guarantee_completed'
    and ((i.status = 'paid' and i.paid_at + make_interval(hours => ${clearingDelayHours}::int) <= ${nowIso}::timestamptz)
         or i.status in ('void', 'uncollectible'))`;
}

/** Due pending rows not in back-off, and processing rows whose lease ran out. */
export function claimableScheduleSql(nowIso: string) {
  return sql`((s.status = 'pending' and s.due_at <= ${nowIso}::timestamptz
               and (s.next_attempt_at is null or s.next_attempt_at <= ${nowIso}::timestamptz))
          or (s.status = 'processing' and s.lease_expires_at < ${nowIso}::timestamptz))`;
}
