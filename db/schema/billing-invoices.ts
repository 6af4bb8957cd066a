import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  index,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { createdAt, id, tstz, updatedAt } from "./columns";
import { placementInvoices } from "./placements";

// Invoice payments, their timeline and manual adjustments (lib/billing, docs/BILLING.md). An invoice
// here is a placement invoice (placement_invoices); its payment state lives beside it in
// billing_invoices, so the placement sweeps keep owning placement_invoices.

/**
 * One row per placement invoice that billing has touched: the authorised PaymentIntent attached to
 * the Stripe invoice, and the amounts Stripe reported for it (captured, refunded), kept from our
 * calls and from webhooks. `billing_pilot` marks the invoice's billing party as in the pilot
 * (BILLING_ROLLOUT_STAGE=pilot); it moves to the clients table once that exists.
 */
export const billingInvoices = pgTable(
  "billing_invoices",
  {
    placementInvoiceId: uuid()
      .primaryKey()
      .references(() => placementInvoices.id),
    billingPilot: boolean().notNull().default(false),
    // Stripe idempotency key prefix for the authorisation calls, stored before the first call.
    authoriseKey: text(),
    stripePaymentIntentId: text(),
    stripeChargeId: text(),
    authorisedCents: bigint({ mode: "number" }).notNull().default(0),
    capturedCents: bigint({ mode: "number" }).notNull().default(0),
    refundedCents: bigint({ mode: "number" }).notNull().default(0),
    settledAt: tstz(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // webhooks find the invoice of a payment intent / charge
    uniqueIndex("billing_invoices_payment_intent_key").on(t.stripePaymentIntentId),
    index("billing_invoices_charge_idx").on(t.stripeChargeId),
    check(
      "billing_invoices_amounts",
      sql`${t.capturedCents} >= 0 and ${t.refundedCents} >= 0 and ${t.authorisedCents} >= 0`,
    ),
  ],
);
export type BillingInvoice = typeof billingInvoices.$inferSelect;

export const billingOperationKinds = ["capture", "refund"] as const;
export const billingOperationStatuses = ["pending", "succeeded", "failed"] as const;

/**
 * A capture or refund asked for through the API, stored with its Stripe idempotency key before the
 * Stripe call. The caller's Idempotency-Key (request_key) and a fingerprint of the request make a
 * replay answer as the first time and a different request under the same key a 409.
 */
export const billingInvoiceOperations = pgTable(
  "billing_invoice_operations",
  {
    id: id(),
    placementInvoiceId: uuid()
      .notNull()
      .references(() => placementInvoices.id),
    kind: text({ enum: billingOperationKinds }).notNull(),
    requestKey: text().notNull(),
    requestHash: text().notNull(),
    // null: in full (what is capturable / refundable at Stripe)
    requestedCents: bigint({ mode: "number" }),
    reasonCode: text(),
    note: text(),
    stripeIdempotencyKey: text().notNull(),
    status: text({ enum: billingOperationStatuses }).notNull().default("pending"),
    // the charge captured, or the refund made
    stripeObjectId: text(),
    amountCents: bigint({ mode: "number" }),
    // the answer given, replayed for the same key
    response: jsonb().$type<Record<string, unknown>>(),
    error: text(),
    createdBy: text().notNull(),
    createdAt: createdAt(),
    completedAt: tstz(),
  },
  (t) => [
    // idempotent replays: one operation per (kind, Idempotency-Key)
    uniqueIndex("billing_invoice_operations_request_key").on(t.kind, t.requestKey),
    // the invoice page: an invoice's operations
    index("billing_invoice_operations_invoice_idx").on(t.placementInvoiceId, t.createdAt),
  ],
);
export type BillingInvoiceOperation = typeof billingInvoiceOperations.$inferSelect;

export const invoiceTimelineKinds = [
  "created",
  "finalized",
  "authorised",
  "captured",
  "refunded",
  "paid",
  "voided",
  "settled",
] as const;
export type InvoiceTimelineKind = (typeof invoiceTimelineKinds)[number];

/**
 * An invoice's timeline: one row per thing that happened at Stripe, from our calls and from
 * webhooks, whichever comes first (unique per invoice, kind and Stripe source id). Read in order
 * of Stripe's own timestamps, so the order webhooks arrive in does not matter.
 */
export const billingInvoiceEvents = pgTable(
  "billing_invoice_events",
  {
    id: id(),
    placementInvoiceId: uuid()
      .notNull()
      .references(() => placementInvoices.id),
    kind: text({ enum: invoiceTimelineKinds }).notNull(),
    // When it happened at Stripe (the object's own timestamp, else the event's created).
    occurredAt: timestamp({ withTimezone: true }).notNull(),
    amountCents: bigint({ mode: "number" }),
    currency: text(),
    // The Stripe object that says it happened (in_, pi_, ch_, re_, inpay_, txn_): the dedupe key.
    sourceId: text().notNull(),
    stripeIds: jsonb().$type<Record<string, string>>().notNull().default({}),
    // api: our own call; webhook: an event (its id in stripe_event_id)
    origin: text({ enum: ["api", "webhook"] }).notNull(),
    stripeEventId: text(),
    recordedAt: createdAt(),
  },
  (t) => [
    // dedupe, and the timeline read in order
    uniqueIndex("billing_invoice_events_source_key").on(t.placementInvoiceId, t.kind, t.sourceId),
    index("billing_invoice_events_invoice_idx").on(t.placementInvoiceId, t.occurredAt),
  ],
);
export type BillingInvoiceEvent = typeof billingInvoiceEvents.$inferSelect;

export const adjustmentDirections = ["charge", "credit"] as const;
export const adjustmentTargets = ["client", "payee"] as const;

/** A manual charge or credit to a client or a payee, posted to the ledger once per Idempotency-Key. */
export const billingAdjustments = pgTable(
  "billing_adjustments",
  {
    id: id(),
    requestKey: text().notNull(),
    requestHash: text().notNull(),
    target: text({ enum: adjustmentTargets }).notNull(),
    payeeId: uuid(),
    // The client as its Stripe customer (cus_...), until the clients table exists.
    clientStripeCustomerId: text(),
    direction: text({ enum: adjustmentDirections }).notNull(),
    amountCents: bigint({ mode: "number" }).notNull(),
    currency: text().notNull(),
    reasonCode: text().notNull(),
    note: text().notNull(),
    ledgerTransactionId: uuid().notNull(),
    createdBy: text().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // idempotent replays
    uniqueIndex("billing_adjustments_request_key").on(t.requestKey),
    // the billing page: newest adjustments
    index("billing_adjustments_created_idx").on(t.createdAt, t.id),
    check("billing_adjustments_amount_positive", sql`${t.amountCents} > 0`),
    check(
      "billing_adjustments_target",
      sql`(${t.target} = 'payee' and ${t.payeeId} is not null) or (${t.target} = 'client' and ${t.clientStripeCustomerId} is not null)`,
    ),
  ],
);
export type BillingAdjustment = typeof billingAdjustments.$inferSelect;
