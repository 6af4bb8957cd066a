import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { outboxEvents } from "../db/schema";

export type OutboxMessage = {
  /** e.g. placement.status_changed, alert.payout_failed, run.completed */
  type: string;
  /** slack: a Slack alert; webhook: an outgoing event (QStash or the local dispatcher) */
  destination: "slack" | "webhook";
  payload: Record<string, unknown>;
  aggregateType?: string;
  aggregateId?: string;
  /** The same change enqueued twice (a retried job) keeps one message. */
  dedupeKey?: string;
};

/**
 * Record an alert or outgoing event in the caller's transaction, next to the change it reports, so a
 * retry neither loses nor repeats it. The relay (`relayOutbox` in lib/notify/relay.ts) publishes it at least once.
 */
export async function enqueueOutbox(db: Db, messages: OutboxMessage | OutboxMessage[]): Promise<void> {
  const list = Array.isArray(messages) ? messages : [messages];
  if (list.length === 0) return;
  await db
    .insert(outboxEvents)
    .values(
      list.map((m) => ({
        type: m.type,
        destination: m.destination,
        payload: m.payload,
        aggregateType: m.aggregateType ?? null,
        aggregateId: m.aggregateId ?? null,
        dedupeKey: m.dedupeKey ?? null,
      })),
    )
    .onConflictDoNothing({ target: outboxEvents.dedupeKey, where: sql`${outboxEvents.dedupeKey} is not null` });
}
