import { sql } from "drizzle-orm";
import {
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { createdAt, id, tstz } from "./columns";

export const processorEventStatuses = [
  "received", // stored, not yet applied
  "processed", // applied
  "ignored", // a type Payrun does not use; stored all the same
  "pending", // refers to something Payrun does not know yet; the replay sweep retries it
  "failed", // applying threw; Stripe retries, and so does the replay sweep
  "conflict", // same event id, different payload hash: flagged, never applied twice
] as const;
export type ProcessorEventStatus = (typeof processorEventStatuses)[number];

// Every webhook (and every event read back from Stripe's Events API) is stored here before it acts.
export const processorEvents = pgTable(
  "processor_events",
  {
    id: id(),
    provider: text().notNull().default("stripe"),
    eventId: text().notNull(),
    type: text().notNull(),
    // Connected account (acct_...) for Connect events, null for platform events.
    account: text(),
    livemode: boolean().notNull().default(false),
    apiVersion: text(),
    payload: jsonb().notNull(),
    payloadSha256: text().notNull(),
    status: text({ enum: processorEventStatuses }).notNull().default("received"),
    attempts: integer().notNull().default(0),
    replayRequested: boolean().notNull().default(false),
    lastReplayError: text(),
    lastError: text(),
    // Stripe's event.created, the order Stripe saw things in.
    eventCreatedAt: tstz(),
    receivedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    processedAt: tstz(),
    // webhook | events_api_backfill | replay
    source: text().notNull().default("webhook"),
  },
  (t) => [
    uniqueIndex("processor_events_provider_event_id_key").on(t.provider, t.eventId),
    // replay sweep and replay listing: failed / pending events by time
    index("processor_events_status_received_idx").on(t.status, t.receivedAt),
    index("processor_events_type_received_idx").on(t.type, t.receivedAt),
  ],
);
export type ProcessorEvent = typeof processorEvents.$inferSelect;

export const processorEventAttempts = pgTable(
  "processor_event_attempts",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    processorEventId: uuid()
      .notNull()
      .references(() => processorEvents.id),
    // webhook | replay_sweep | replay_request | backfill
    trigger: text().notNull(),
    outcome: text().notNull(),
    error: text(),
    actor: text(),
    startedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    finishedAt: tstz(),
  },
  (t) => [index("processor_event_attempts_event_idx").on(t.processorEventId, t.startedAt)],
);

export const auditActorTypes = ["system", "webhook", "user"] as const;

// Who did what, before and after, and why. Append-only: a trigger refuses UPDATE and DELETE.
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    occurredAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    // system job name, webhook event id, or user id
    actorType: text({ enum: auditActorTypes }).notNull(),
    actorId: text().notNull(),
    actorRole: text(),
    action: text().notNull(),
    entityType: text().notNull(),
    entityId: text().notNull(),
    before: jsonb(),
    after: jsonb(),
    reason: text(),
    requestId: text(),
  },
  (t) => [
    index("audit_log_entity_idx").on(t.entityType, t.entityId, t.occurredAt),
    index("audit_log_actor_idx").on(t.actorId, t.occurredAt),
    index("audit_log_action_idx").on(t.action, t.occurredAt),
    index("audit_log_occurred_idx").on(t.occurredAt),
  ],
);
export type AuditLogRow = typeof auditLog.$inferSelect;

// Transactional outbox: alerts and outgoing events are written in the same transaction as the change
// they report; the relay publishes each at least once under its stable id.
export const outboxEvents = pgTable(
  "outbox_events",
  {
    id: id(),
    // e.g. placement.status_changed, alert.payout_failed, run.completed
    type: text().notNull(),
    // slack | webhook (QStash or local dispatcher) | sentry
    destination: text().notNull().default("webhook"),
    aggregateType: text(),
    aggregateId: text(),
    // A natural key so the same change never enqueues two messages (e.g. "payout_failed:<id>").
    dedupeKey: text(),
    payload: jsonb().notNull(),
    attempts: integer().notNull().default(0),
    nextAttemptAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    leaseExpiresAt: tstz(),
    publishedAt: tstz(),
    lastError: text(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("outbox_events_dedupe_key_key").on(t.dedupeKey),
    // relay: unpublished rows due now
    index("outbox_events_unpublished_idx")
      .on(t.nextAttemptAt)
      .where(sql`${t.publishedAt} is null`),
  ],
);
export type OutboxEvent = typeof outboxEvents.$inferSelect;

// QStash deliveries that succeeded (answered 2xx). A later request carrying the same signature (a
// replay within its validity window) or the same Upstash-Message-Id (QStash delivering a message
// again) is answered as the first one was, without the work being done again. A delivery that
// failed is not here: QStash's retry of it (Upstash-Retried > 0) is applied.
export const qstashDeliveries = pgTable(
  "qstash_deliveries",
  {
    // The signature's jti: each QStash delivery signs anew, a replay reuses the same one.
    signatureId: text().primaryKey(),
    // Upstash-Message-Id, the same on every delivery of a message. Not covered by the signature,
    // hence the jti above for replays that change or drop it.
    messageId: text(),
    // The route it was delivered to, for whoever reads the table.
    path: text().notNull(),
    status: integer().notNull(),
    // What the first delivery answered, given again to a later one.
    responseBody: text().notNull(),
    completedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // a redelivered message: lib/api/qstash-deliveries.ts findCompletedDelivery
    uniqueIndex("qstash_deliveries_message_id_key").on(t.messageId),
    // pruning rows past the retention, on each new row
    index("qstash_deliveries_completed_at_idx").on(t.completedAt),
  ],
);
export type QStashDelivery = typeof qstashDeliveries.$inferSelect;
