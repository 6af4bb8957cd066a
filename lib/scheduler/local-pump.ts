import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { Env } from "../env";
import { errorText, log } from "../observability/log";

// The local stand-in for QStash's delivery: takes due rows of local_dispatches (written by
// dispatchInternal) and POSTs each to the app with X-Cron-Secret, at least once, one at a time per
// flow-control key, retrying failures with back-off up to the message's attempts. Rows live in the
// database, so nothing is lost when the process dies: a new pump redelivers what was in flight.

type DueRow = { id: string; path: string; body: Record<string, unknown>; attempts: number; max_attempts: number };

export type LocalDispatchPump = {
  /** Deliver what is due now (the timer calls this; tests may too). Resolves when the deliveries end. */
  deliverDue(): Promise<number>;
  stop(): Promise<void>;
};

export type LocalDispatchPumpOptions = {
  db: Db;
  baseUrl: string;
  cronSecret: string;
  pollMs?: number;
  /** How long one delivery may take (a run slice is up to maxDuration) before it counts as lost. */
  deliveryTimeoutMs?: number;
  batchSize?: number;
  fetchImpl?: typeof fetch;
};

const MAX_BACKOFF_SECONDS = 60;

export async function startLocalDispatchPump(options: LocalDispatchPumpOptions): Promise<LocalDispatchPump> {
  const { db } = options;
  const doFetch = options.fetchImpl ?? fetch;
  const pollMs = options.pollMs ?? 500;
  const timeoutMs = options.deliveryTimeoutMs ?? 330_000;
  const leaseSeconds = Math.ceil(timeoutMs / 1000) + 30;
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let lastCleanup = 0;

  // Whatever a pump before us was delivering when its process ended is due again (at least once).
  await db.execute(sql`
    update local_dispatches set lease_expires_at = null
    where delivered_at is null and failed_at is null and lease_expires_at is not null`);

  const deliver = async (row: DueRow): Promise<void> => {
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await doFetch(new URL(row.path, options.baseUrl), {
        method: "POST",
        headers: { "content-type": "application/json", "x-cron-secret": options.cronSecret },
        body: JSON.stringify(row.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      await res.body?.cancel();
    } catch (e) {
      error = (e as Error).message;
    }
    if (status !== null && status >= 200 && status < 300) {
      await db.execute(sql`update local_dispatches set delivered_at = now(), lease_expires_at = null, last_status = ${status}, last_error = null where id = ${row.id}`);
      return;
    }
    const gaveUp = row.attempts >= row.max_attempts;
    const backoff = Math.min(MAX_BACKOFF_SECONDS, 2 ** row.attempts);
    log.warn("local dispatch failed", { path: row.path, status, error, attempt: row.attempts, gaveUp });
    await db.execute(sql`
      update local_dispatches set lease_expires_at = null, last_status = ${status}, last_error = ${error},
        failed_at = case when ${gaveUp} then now() end,
        due_at = now() + make_interval(secs => ${backoff})
      where id = ${row.id}`);
  };

  /** Claim what is due and start delivering it; resolves with the deliveries once they are claimed. */
  const startDue = async (): Promise<Promise<void>[]> => {
    // One row per flow-control key, and none whose key has a delivery in flight (parallelism 1).
    const rows = await queryRows<DueRow>(
      db,
      sql`with candidates as (
            select id from (
              select l.id, l.due_at, l.seq, row_number() over (partition by coalesce(l.flow_control_key, l.id::text) order by l.due_at, l.seq) as rn
              from local_dispatches l
              where l.delivered_at is null and l.failed_at is null and l.due_at <= now()
                and (l.lease_expires_at is null or l.lease_expires_at < now())
                and (l.flow_control_key is null or not exists (
                  select 1 from local_dispatches o
                  where o.flow_control_key = l.flow_control_key and o.id <> l.id
                    and o.delivered_at is null and o.failed_at is null and o.lease_expires_at >= now()))
            ) ranked where rn = 1
            order by due_at, seq
            limit ${options.batchSize ?? 20}
          ),
          picked as (
            select d.id from local_dispatches d join candidates c on c.id = d.id for update of d skip locked
          )
          update local_dispatches d set lease_expires_at = now() + make_interval(secs => ${leaseSeconds}), attempts = d.attempts + 1
          from picked where d.id = picked.id
          returning d.id, d.path, d.body, d.attempts, d.max_attempts`,
    );
    if (Date.now() - lastCleanup > 600_000) {
      lastCleanup = Date.now();
      await db.execute(sql`delete from local_dispatches where delivered_at < now() - interval '1 day' or failed_at < now() - interval '7 days'`);
    }
    return rows.map((row) => {
      const p: Promise<void> = deliver(row)
        .catch((e: Error) => log.warn("local dispatch bookkeeping failed", { path: row.path, error: errorText(e) }))
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      return p;
    });
  };

  const deliverDue = async (): Promise<number> => {
    const deliveries = await startDue();
    await Promise.all(deliveries);
    return deliveries.length;
  };

  // Poll without overlapping polls; deliveries run on while the next poll looks for more, so a long
  // run slice never holds up a sweep's continuation.
  const tick = async () => {
    if (stopped) return;
    try {
      await startDue();
    } catch (e) {
      log.warn("local dispatch poll failed", { error: errorText(e) });
    }
    if (stopped) return;
    timer = setTimeout(() => void tick(), pollMs);
    timer.unref?.();
  };
  timer = setTimeout(() => void tick(), 0);
  timer.unref?.();

  return {
    deliverDue,
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.allSettled([...inFlight]);
    },
  };
}

/**
 * The app server's pump (instrumentation.ts, QSTASH_TOKEN unset): delivers to this server itself. Needs
 * CRON_SECRET_KEY to call /internal; without it the dispatcher's rows wait and the log says why.
 */
export async function startAppDispatchPump(env: Pick<Env, "APP_BASE_URL" | "CRON_SECRET_KEY" | "PAYOUT_FUNCTION_MAX_DURATION_SECONDS">) {
  if (!env.CRON_SECRET_KEY) {
    log.warn("local dispatcher idle: CRON_SECRET_KEY is unset, so continuations cannot call /internal");
    return undefined;
  }
  const { getDb } = await import("../../db/client");
  return startLocalDispatchPump({
    db: await getDb(),
    baseUrl: env.APP_BASE_URL,
    cronSecret: env.CRON_SECRET_KEY,
    deliveryTimeoutMs: (env.PAYOUT_FUNCTION_MAX_DURATION_SECONDS + 30) * 1000,
  });
}
