import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { Env } from "../env";
import { errorText, log } from "../observability/log";
import { qstashClient } from "../scheduler/dispatch";
import { postToSlack } from "./slack";

// The outbox relay: claims due, unpublished outbox rows with a lease (SKIP LOCKED, so two relays
// never take the same row), publishes each under its row id (Slack, or the outgoing webhook via
// QStash with the row id as deduplication id), marks it published, or backs off on failure.

export const RELAY_LEASE_SECONDS = 60;
const MAX_BACKOFF_SECONDS = 3600;

type OutboxRow = { id: string; type: string; destination: string; payload: Record<string, unknown>; attempts: number; created_at: string };

export type RelayResult = { claimed: number; published: number; failed: number };

export async function relayOutbox(
  db: Db,
  env: Pick<Env, "SLACK_PAYOUT_WEBHOOK_URL" | "OUTBOX_WEBHOOK_URL" | "QSTASH_TOKEN" | "QSTASH_URL">,
  options: { limit?: number } = {},
): Promise<RelayResult> {
  const rows = await queryRows<OutboxRow>(
    db,
    sql`update outbox_events o set lease_expires_at = now() + make_interval(secs => ${RELAY_LEASE_SECONDS}), attempts = o.attempts + 1
        where o.id in (
          select id from outbox_events
          where published_at is null and next_attempt_at <= now() and (lease_expires_at is null or lease_expires_at < now())
          order by next_attempt_at limit ${options.limit ?? 200}
          for update skip locked)
        returning o.id, o.type, o.destination, o.payload, o.attempts, o.created_at`,
  );
  let published = 0;
  let failed = 0;
  await Promise.all(
    rows.map(async (row) => {
      try {
        await publish(env, row);
        await db.execute(sql`update outbox_events set published_at = now(), lease_expires_at = null, last_error = null where id = ${row.id}`);
        published++;
      } catch (error) {
        failed++;
        const backoff = Math.min(MAX_BACKOFF_SECONDS, 15 * 2 ** Math.min(row.attempts, 12));
        log.warn("outbox publish failed", { id: row.id, type: row.type, error: errorText(error) });
        await db.execute(sql`
          update outbox_events set lease_expires_at = null, last_error = ${errorText(error).slice(0, 1000)},
            next_attempt_at = now() + make_interval(secs => ${backoff})
          where id = ${row.id}`);
      }
    }),
  );
  return { claimed: rows.length, published, failed };
}

async function publish(env: Parameters<typeof relayOutbox>[1], row: OutboxRow): Promise<void> {
  if (row.destination === "slack") {
    if (!env.SLACK_PAYOUT_WEBHOOK_URL) {
      log.info("slack alert (SLACK_PAYOUT_WEBHOOK_URL unset)", { type: row.type, text: row.payload.text });
      return;
    }
    await postToSlack(env.SLACK_PAYOUT_WEBHOOK_URL, { text: String(row.payload.text ?? row.type) });
    return;
  }
  if (row.destination === "webhook") {
    if (!env.OUTBOX_WEBHOOK_URL) {
      log.info("outgoing event (OUTBOX_WEBHOOK_URL unset)", { id: row.id, type: row.type });
      return;
    }
    const body = { id: row.id, type: row.type, createdAt: new Date(row.created_at).toISOString(), data: row.payload };
    if (env.QSTASH_TOKEN) {
      // The row id is the message's deduplication id: a relay retried after a crash publishes once.
      await qstashClient(env).publishJSON({
        url: env.OUTBOX_WEBHOOK_URL,
        body,
        deduplicationId: row.id,
        headers: { "Payrun-Event-Id": row.id },
        retries: 5,
      });
      return;
    }
    const res = await fetch(env.OUTBOX_WEBHOOK_URL, {
      method: "POST",
      headers: { "content-type": "application/json", "payrun-event-id": row.id, "idempotency-key": row.id },
      body: JSON.stringify(body),
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`outbox webhook answered ${res.status}`);
    return;
  }
  log.warn("outbox row with unknown destination, dropped", { id: row.id, destination: row.destination });
}
