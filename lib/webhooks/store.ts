import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { ProcessorEventStatus } from "../../db/schema";
import { webhookActor } from "../actor";
import { recordAudit } from "../audit";
import { enqueueOutbox } from "../outbox";
import { isHandledType } from "./handlers";
import type { EventSource, StripeEvent } from "./types";

export type StoredEvent = {
  id: string;
  status: ProcessorEventStatus;
  attempts: number;
  payloadSha256: string;
  /** This call wrote the row (false: Stripe or the backfill delivered it before). */
  inserted: boolean;
  /** Same event id as a stored row, different content: flagged, never applied. */
  conflict: boolean;
};

/**
 * SHA-256 of the event's content, keys sorted so key order does not matter, without
 * `pending_webhooks` (it changes between deliveries and between the webhook and the Events API copy
 * of one event). Two deliveries of one event hash the same; a different payload under a known id
 * does not.
 */
export function eventPayloadHash(event: StripeEvent): string {
  const { pending_webhooks: _ignored, ...content } = event;
  return createHash("sha256").update(canonicalJson(content)).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
}

/**
 * Store an event before anything acts on it: one round trip (insert ... on conflict do nothing,
 * or the row that was already there). A type Payrun does not use is stored as `ignored` at once.
 * `rawPayload` is the body exactly as Stripe sent it, stored as is (no re-serialising on the hot path).
 */
export async function storeStripeEvent(
  db: Db,
  event: StripeEvent,
  options: { source: EventSource; rawPayload?: string },
): Promise<StoredEvent> {
  const hash = eventPayloadHash(event);
  const initialStatus: ProcessorEventStatus = isHandledType(event.type) ? "received" : "ignored";
  const row = async () =>
    queryRows<{
      id: string;
      status: ProcessorEventStatus;
      attempts: number;
      payload_sha256: string;
      inserted: boolean;
    }>(
      db,
      sql`with ins as (
            insert into processor_events ${newEventRow(event, hash, initialStatus, options)}
            on conflict (provider, event_id) do nothing
            returning id, status, attempts, payload_sha256, true as inserted)
          select * from ins
          union all
          select id, status, attempts, payload_sha256, false as inserted from processor_events
          where provider = 'stripe' and event_id = ${event.id} and not exists (select 1 from ins)`,
    );
  let rows = await row();
  // A concurrent first delivery committed after this statement's snapshot: read it again.
  if (rows.length === 0) rows = await row();
  const found = rows[0];
  if (!found) throw new Error(`processor event ${event.id} neither inserted nor found`);
  const stored: StoredEvent = {
    id: found.id,
    status: found.status,
    attempts: Number(found.attempts),
    payloadSha256: found.payload_sha256,
    inserted: found.inserted,
    conflict: !found.inserted && found.payload_sha256 !== hash,
  };
  if (stored.conflict) await flagPayloadConflict(db, event, stored, hash);
  return stored;
}

/**
 * Insert the event's row already marked `status`, unless a row with its id exists (committed, or
 * being inserted by a concurrent transaction, which this waits for on the unique index): the new
 * row's id, or null. For the first-delivery path, which applies the event in the same transaction.
 */
export async function insertNewEvent(
  db: Db,
  event: StripeEvent,
  status: ProcessorEventStatus,
  options: { source: EventSource; rawPayload?: string },
): Promise<string | null> {
  const [row] = await queryRows<{ id: string }>(
    db,
    sql`insert into processor_events ${newEventRow(event, eventPayloadHash(event), status, options)}
        on conflict (provider, event_id) do nothing returning id`,
  );
  return row?.id ?? null;
}

/** Columns and values of a new processor_events row, for both inserts; processed_at unless `received`. */
function newEventRow(
  event: StripeEvent,
  hash: string,
  status: ProcessorEventStatus,
  options: { source: EventSource; rawPayload?: string },
) {
  const payload = options.rawPayload ?? JSON.stringify(event);
  const createdAt = new Date(event.created * 1000).toISOString();
  return sql`(provider, event_id, type, account, livemode, api_version, payload, payload_sha256, status,
      event_created_at, processed_at, source)
    values ('stripe', ${event.id}, ${event.type}, ${event.account ?? null}, ${event.livemode ?? false},
      ${event.api_version ?? null}, ${payload}::jsonb, ${hash}, ${status}, ${createdAt}::timestamptz,
      ${status === "received" ? sql`null` : sql`now()`}, ${options.source})`;
}

/** Same id, different content: keep the first, leave its status alone, tell a human. */
async function flagPayloadConflict(
  db: Db,
  event: StripeEvent,
  stored: StoredEvent,
  hash: string,
): Promise<void> {
  await db.transaction(async (tx) => {
    await recordAudit(tx, {
      actor: webhookActor(event.id),
      action: "processor_event.payload_conflict",
      entityType: "processor_event",
      entityId: event.id,
      before: { payloadSha256: stored.payloadSha256, status: stored.status },
      after: { payloadSha256: hash, type: event.type },
      reason:
        "same event id delivered with a different payload; the stored one is kept and not applied again",
    });
    await enqueueOutbox(tx, {
      type: "alert.processor_event_conflict",
      destination: "slack",
      aggregateType: "processor_event",
      aggregateId: stored.id,
      dedupeKey: `processor_event_conflict:${event.id}:${hash}`,
      payload: {
        text: `Stripe event ${event.id} (${event.type}) arrived again with a different payload; kept the first, not applied twice.`,
        eventId: event.id,
        storedSha256: stored.payloadSha256,
        receivedSha256: hash,
      },
    });
  });
}
