import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { createdAt, id, tstz, updatedAt } from "./columns";

// Billing (lib/billing): clients (companies Payrun bills), each with a plan from configuration
// (lib/billing/plans.ts), a Stripe customer and a subscription; the usage they are metered on and
// the batches that exported it to Stripe's billing meters.

export const clientStatuses = [
  "creating", // the row exists; the Stripe customer or subscription is not made yet (retry the create)
  "active", // subscribed
  "canceled", // subscription cancelled (at Stripe, or on our side with Stripe confirming)
] as const;
export type ClientStatus = (typeof clientStatuses)[number];

export const clients = pgTable(
  "clients",
  {
    id: id(),
    name: text().notNull(),
    email: text().notNull(),
    // A key of the configured plan map (starter, business, enterprise, ...).
    plan: text().notNull(),
    status: text({ enum: clientStatuses }).notNull().default("creating"),
    // The caller's Idempotency-Key on create: the same key answers with this row, nothing made twice.
    createKey: text(),
    stripeCustomerId: text(),
    stripeSubscriptionId: text(),
    // Stripe's subscription.status as last seen (active, past_due, incomplete, canceled, ...).
    subscriptionStatus: text(),
    currentPeriodEnd: tstz(),
    cancelAtPeriodEnd: boolean().notNull().default(false),
    canceledAt: tstz(),
    // Counts plan changes: the idempotency key of the n-th change is client:<id>:plan:<n>.
    planVersion: integer().notNull().default(0),
    // Latest invoice and payment as the webhooks reported them (invoice.*, payment_intent.*).
    latestInvoiceId: text(),
    latestInvoiceStatus: text(),
    lastPaymentError: text(),
    // `created` of the newest Stripe event applied, so an older event never overwrites newer state.
    stripeStateAt: tstz(),
    lastError: text(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("clients_create_key_key").on(t.createKey),
    // webhooks: the client of a customer / subscription
    uniqueIndex("clients_stripe_customer_id_key").on(t.stripeCustomerId),
    uniqueIndex("clients_stripe_subscription_id_key").on(t.stripeSubscriptionId),
    // GET /api/v1/clients: newest first
    index("clients_created_idx").on(t.createdAt, t.id),
  ],
);
export type Client = typeof clients.$inferSelect;

export const usageSources = ["api", "placement"] as const;

// Metered usage that finance exports to Stripe billing meters (behind a dry-run gate).
export const usageRecords = pgTable(
  "usage_records",
  {
    id: id(),
    clientId: uuid().references(() => clients.id),
    stripeCustomerId: text().notNull(),
    meterEventName: text().notNull(),
    quantity: integer().notNull(),
    occurredAt: timestamp({ withTimezone: true }).notNull(),
    // Derived from this row's id; also the meter event's `identifier`, so Stripe dedupes it too.
    identifier: text().notNull(),
    // api: POST /api/v1/usage; placement: Payrun's own event (a placement made).
    source: text({ enum: usageSources }).notNull().default("api"),
    // The caller's Idempotency-Key (api), or placement:<id> (placement): one record per key and client.
    requestKey: text(),
    // The export batch that last sent it, set before the Stripe call; exportedAt once Stripe took it.
    exportBatchId: uuid(),
    exportAttemptedAt: tstz(),
    exportedAt: tstz(),
    // Stripe refused this record (its own error, e.g. a timestamp outside its window): not retried
    // unless asked (--retry-failed).
    exportFailedAt: tstz(),
    exportError: text(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("usage_records_identifier_key").on(t.identifier),
    // POST /api/v1/usage and placement metering: one record per key and client
    uniqueIndex("usage_records_client_request_key").on(t.clientId, t.requestKey),
    // the export: what is not exported yet, by time
    index("usage_records_unexported_idx").on(t.occurredAt).where(sql`${t.exportedAt} is null`),
    // the usage page: a client's usage by time
    index("usage_records_client_occurred_idx").on(t.clientId, t.occurredAt),
    check("usage_records_quantity_positive", sql`${t.quantity} > 0`),
  ],
);
export type UsageRecord = typeof usageRecords.$inferSelect;

export const usageExportStatuses = [
  "running",
  "completed",
  "completed_with_failures",
  "failed",
  "interrupted",
] as const;

// One live export (npm run billing:export-usage with LIVE=true and --confirm): who, when, the range,
// the counts and how it ended. Dry runs write nothing.
export const usageExportBatches = pgTable(
  "usage_export_batches",
  {
    id: id(),
    actor: text().notNull(),
    // [rangeStart, rangeEnd): dates in UTC, as given on the command line.
    rangeStart: text().notNull(),
    rangeEnd: text().notNull(),
    status: text({ enum: usageExportStatuses }).notNull().default("running"),
    recordsTotal: integer().notNull().default(0),
    recordsSent: integer().notNull().default(0),
    // Stripe already had it (the same identifier sent by an earlier, interrupted export).
    recordsAlreadyAtStripe: integer().notNull().default(0),
    recordsFailed: integer().notNull().default(0),
    lastError: text(),
    startedAt: createdAt(),
    finishedAt: tstz(),
  },
  (t) => [index("usage_export_batches_started_idx").on(t.startedAt, t.id)],
);
export type UsageExportBatch = typeof usageExportBatches.$inferSelect;
