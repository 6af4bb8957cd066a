import * as Sentry from "@sentry/nextjs";

// Sentry cron monitors: a check-in per schedule firing, so a run that never starts or never ends
// alerts in Sentry even when Payrun itself is down. Without a DSN these are no-ops.

export const PAYOUT_RUN_MONITOR = "payout-run";

export function cronCheckIn(monitorSlug: string, status: "in_progress" | "ok" | "error", checkInId?: string): string | undefined {
  try {
    const checkIn =
      status === "in_progress" ? { monitorSlug, status } : { monitorSlug, status, ...(checkInId ? { checkInId } : {}) };
    return Sentry.captureCheckIn(checkIn as Parameters<typeof Sentry.captureCheckIn>[0],
      { schedule: { type: "crontab", value: "0 6 1,15 * *" }, checkinMargin: 30, maxRuntime: 120 },
    );
  } catch {
    return undefined;
  }
}
