import * as Sentry from "@sentry/nextjs";
import type { Env } from "../env";
import { scheduleDefinitions } from "../scheduler/schedules";

// Sentry cron monitors: a check-in when a scheduled job ends, so a run that never happens alerts in
// Sentry even when Payrun itself is down. Without a DSN these are no-ops.

export const PAYOUT_RUN_MONITOR = "payout-run";

/**
 * Check in for the schedule `monitorSlug` (an id from lib/scheduler/schedules.ts). The monitor's
 * crontab and time zone come from that one definition, so Sentry expects the job when QStash fires it.
 */
export function cronCheckIn(
  env: Pick<Env, "PAYOUT_TIMEZONE">,
  monitorSlug: string,
  status: "ok" | "error",
): void {
  const schedule = scheduleDefinitions(env).find((d) => d.id === monitorSlug);
  try {
    Sentry.captureCheckIn(
      { monitorSlug, status },
      {
        schedule: { type: "crontab", value: schedule?.cron ?? "0 6 1,15 * *" },
        timezone: schedule?.timeZone ?? env.PAYOUT_TIMEZONE,
        checkinMargin: 30,
        maxRuntime: 120,
      },
    );
  } catch {
    // Monitoring must never fail a payout run.
  }
}
