import type { Env } from "../env";

// Schedules as code: every recurring call Payrun needs, defined once. `npm run schedules:sync`
// writes these to QStash; with QSTASH_TOKEN unset, startLocalScheduler fires the same ones locally.

export type ScheduleDefinition = {
  /** Stable id: QStash's scheduleId, so a sync updates instead of duplicating. */
  id: string;
  path: string;
  /** Five-field cron, in `timeZone` (QStash gets a `CRON_TZ=` prefix). */
  cron: string;
  timeZone: string;
  body: Record<string, unknown>;
  description: string;
  /** Only one delivery of this schedule in flight at a time. */
  flowControlKey: string;
  retries: number;
};

/**
 * How often the watchdog looks for runs that lost their invocation: a run stalls at most one slice
 * (the heartbeat's staleness) plus this period after a crash.
 */
export const WATCHDOG_CRON = "*/2 * * * *";

export function scheduleDefinitions(env: Pick<Env, "PAYOUT_TIMEZONE">): ScheduleDefinition[] {
  const hourly = (id: string, minute: number, description: string): ScheduleDefinition => ({
    id,
    path: `/internal/sweeps/${id}`,
    cron: `${minute} * * * *`,
    timeZone: "UTC",
    body: {},
    description,
    flowControlKey: `sweep-${id}`,
    retries: 3,
  });
  return [
    {
      id: "payout-run",
      path: "/internal/payouts/run",
      cron: "0 6 1,15 * *",
      timeZone: env.PAYOUT_TIMEZONE,
      body: {},
      description: "Twice-monthly payout run: 06:00 on the 1st and 15th",
      flowControlKey: "payout-run",
      retries: 5,
    },
    {
      id: "payout-watchdog",
      path: "/internal/payouts/watchdog",
      cron: WATCHDOG_CRON,
      timeZone: "UTC",
      body: {},
      description: "Continue any payout run whose invocation died (no heartbeat for one slice)",
      flowControlKey: "payout-watchdog",
      retries: 1,
    },
    // Different minutes, so the hourly sweeps never pile onto the database together.
    hourly("complete-expired-guarantees", 5, "Complete placements whose guarantee period ended"),
    hourly("create-placement-invoices", 12, "Invoice placements that became billable"),
    hourly("finalize-placement-invoices", 19, "Finalize and send drafted placement invoices"),
    hourly("payout-schedules", 26, "Apply per-payee payout schedules"),
    hourly("escrow-releases", 33, "Release rolling-reserve holds that came due"),
    hourly("ledger-invariants", 40, "Check a sample of kept ledger balances against their entries"),
    hourly("webhook-replays", 47, "Replay failed and pending Stripe events"),
    hourly("reconcile", 54, "Reconcile Stripe's balance transactions and balances with the ledger"),
    {
      id: "instant-payouts",
      path: "/internal/sweeps/instant-payouts",
      cron: "* * * * *",
      timeZone: "UTC",
      body: {},
      description:
        "Finish instant payouts whose invocation died (lease ran out): look up at Stripe, then pay",
      flowControlKey: "sweep-instant-payouts",
      retries: 1,
    },
    {
      id: "outbox-relay",
      path: "/internal/outbox/relay",
      cron: "* * * * *",
      timeZone: "UTC",
      body: {},
      description: "Publish outbox events (Slack alerts, outgoing webhooks)",
      flowControlKey: "outbox-relay",
      retries: 1,
    },
  ];
}

/** The cron string QStash stores: the zone as a CRON_TZ prefix unless it is UTC. */
export function qstashCron(def: ScheduleDefinition): string {
  return def.timeZone === "UTC" ? def.cron : `CRON_TZ=${def.timeZone} ${def.cron}`;
}
