import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  date,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { createdAt, id, tstz, updatedAt } from "./columns";
import { clients } from "./billing";
import { ledgerTransactions } from "./ledger";
import { payees } from "./payees";

export const placementStatuses = ["active", "guarantee_completed", "cancelled", "failed"] as const;
export type PlacementStatus = (typeof placementStatuses)[number];

export const placements = pgTable(
  "placements",
  {
    id: id(),
    payeeId: uuid()
      .notNull()
      .references(() => payees.id),
    // The client is a Stripe customer on the platform account.
    clientStripeCustomerId: text().notNull(),
    clientName: text(),
    candidateName: text(),
    feeCents: bigint({ mode: "number" }).notNull(),
    payeeShareCents: bigint({ mode: "number" }).notNull(),
    currency: text().notNull(),
    startDate: date({ mode: "string" }).notNull(),
    guaranteeDays: integer().notNull(),
    // Null only on rows older than the column; lib/cli/backfill-guarantees.ts fills them.
    guaranteeExpiresAt: tstz(),
    status: text({ enum: placementStatuses }).notNull().default("active"),
    statusChangedAt: tstz(),
    cancelReason: text(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // complete-expired-guarantees sweep
    index("placements_status_guarantee_idx").on(t.status, t.guaranteeExpiresAt),
    index("placements_payee_idx").on(t.payeeId, t.createdAt),
    check("placements_fee_nonnegative", sql`${t.feeCents} >= 0`),
    check(
      "placements_share_within_fee",
      sql`${t.payeeShareCents} >= 0 and ${t.payeeShareCents} <= ${t.feeCents}`,
    ),
    check("placements_guarantee_days_nonnegative", sql`${t.guaranteeDays} >= 0`),
  ],
);
export type Placement = typeof placements.$inferSelect;

export const placementInvoiceStatuses = [
  "creating",
  "draft",
  "open",
  "paid",
  "payment_failed",
  "void",
  "uncollectible",
] as const;
export type PlacementInvoiceStatus = (typeof placementInvoiceStatuses)[number];

export const placementInvoices = pgTable(
  "placement_invoices",
  {
    id: id(),
    placementId: uuid()
      .notNull()
      .references(() => placements.id),
    amountCents: bigint({ mode: "number" }).notNull(),
    currency: text().notNull(),
    status: text({ enum: placementInvoiceStatuses }).notNull().default("creating"),
    // Stored before the Stripe call; derived from this row's id.
    idempotencyKey: text().notNull(),
    // Snapshots of what the Stripe calls send, written with the row: a retry reusing the stored
    // idempotency keys must send identical parameters (Stripe refuses a reused key otherwise).
    // Null only on rows older than the columns; the create sweep fills them from the placement.
    clientStripeCustomerId: text(),
    // The client (lib/billing) this invoice bills, when the placement's customer is one.
    clientId: uuid().references(() => clients.id),
    description: text(),
    // When the create sweep first claimed the row: past Stripe's 24 h idempotency window, a missing
    // Stripe id is looked up at Stripe before anything is created again.
    firstAttemptAt: tstz(),
    stripeInvoiceId: text(),
    stripeInvoiceItemId: text(),
    // The placement was cancelled or failed: the sweeps void (or abandon, if still a draft) this invoice.
    voidRequestedAt: tstz(),
    hostedInvoiceUrl: text(),
    finalizedAt: tstz(),
    paidAt: tstz(),
    voidedAt: tstz(),
    // `created` of the newest invoice.* event applied, so an older event never overwrites newer state.
    stripeStateAt: tstz(),
    leaseExpiresAt: tstz(),
    lastError: text(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // one invoice per placement: a retried sweep can never make a second one
    uniqueIndex("placement_invoices_placement_id_key").on(t.placementId),
    uniqueIndex("placement_invoices_stripe_invoice_id_key").on(t.stripeInvoiceId),
    index("placement_invoices_status_idx").on(t.status),
    check("placement_invoices_amount_nonnegative", sql`${t.amountCents} >= 0`),
  ],
);
export type PlacementInvoice = typeof placementInvoices.$inferSelect;

export const payoutScheduleStatuses = ["pending", "processing", "processed", "failed", "cancelled"] as const;
export type PayoutScheduleStatus = (typeof payoutScheduleStatuses)[number];

// A payee's share of a placement, payable once the guarantee has passed and the invoice is collectible.
export const payoutSchedules = pgTable(
  "payout_schedules",
  {
    id: id(),
    placementId: uuid().references(() => placements.id),
    payeeId: uuid()
      .notNull()
      .references(() => payees.id),
    amountCents: bigint({ mode: "number" }).notNull(),
    currency: text().notNull(),
    dueAt: timestamp({ withTimezone: true }).notNull(),
    status: text({ enum: payoutScheduleStatuses }).notNull().default("pending"),
    retryCount: integer().notNull().default(0),
    lastRetryAt: tstz(),
    nextAttemptAt: tstz(),
    failureReason: text(),
    leaseExpiresAt: tstz(),
    processedAt: tstz(),
    ledgerTransactionId: uuid().references(() => ledgerTransactions.id),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // one schedule per placement share
    uniqueIndex("payout_schedules_placement_id_key").on(t.placementId),
    // payout-schedules sweep: due pending rows, and processing rows with an expired lease
    index("payout_schedules_status_due_idx").on(t.status, t.dueAt),
    index("payout_schedules_payee_idx").on(t.payeeId),
    check("payout_schedules_amount_positive", sql`${t.amountCents} > 0`),
  ],
);
export type PayoutSchedule = typeof payoutSchedules.$inferSelect;

export const escrowHoldKinds = ["placement_escrow", "rolling_reserve", "dispute", "manual"] as const;
export const escrowHoldStatuses = ["active", "released", "cancelled"] as const;

// Money moved from a payee's available account to held until release_at. Never payable while active.
export const escrowHolds = pgTable(
  "escrow_holds",
  {
    id: id(),
    payeeId: uuid()
      .notNull()
      .references(() => payees.id),
    placementId: uuid().references(() => placements.id),
    kind: text({ enum: escrowHoldKinds }).notNull(),
    amountCents: bigint({ mode: "number" }).notNull(),
    currency: text().notNull(),
    reason: text().notNull(),
    // What the hold is for outside Payrun, e.g. the payment intent a reserve was taken from.
    sourceRef: text(),
    releaseAt: tstz(),
    status: text({ enum: escrowHoldStatuses }).notNull().default("active"),
    releasedAt: tstz(),
    cancelledAt: tstz(),
    createdBy: text(),
    holdLedgerTransactionId: uuid().references(() => ledgerTransactions.id),
    releaseLedgerTransactionId: uuid().references(() => ledgerTransactions.id),
    leaseExpiresAt: tstz(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // escrow-releases sweep
    index("escrow_holds_status_release_idx").on(t.status, t.releaseAt),
    index("escrow_holds_placement_idx").on(t.placementId, t.status),
    index("escrow_holds_payee_idx").on(t.payeeId, t.status),
    uniqueIndex("escrow_holds_kind_source_ref_key").on(t.kind, t.sourceRef),
    check("escrow_holds_amount_positive", sql`${t.amountCents} > 0`),
  ],
);
export type EscrowHold = typeof escrowHolds.$inferSelect;
