import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { createdAt, id, tstz, updatedAt } from "./columns";

export const payoutRunStatuses = [
  "planning",
  "executing",
  "completed",
  "completed_with_failures",
  "failed",
  "cancelled",
] as const;
export type PayoutRunStatus = (typeof payoutRunStatuses)[number];

export const payoutRuns = pgTable(
  "payout_runs",
  {
    id: id(),
    // The cycle this run pays, e.g. "2026-11-15". Duplicate triggers of one cycle collide on it.
    cycleKey: text().notNull(),
    cycleDate: text().notNull(),
    // Ledger entries effective at or before this instant are in the cycle's balance.
    cutoffAt: timestamp({ withTimezone: true }).notNull(),
    status: text({ enum: payoutRunStatuses }).notNull().default("planning"),
    dryRun: boolean().notNull().default(false),
    trigger: text({ enum: ["schedule", "manual", "continuation", "api"] })
      .notNull()
      .default("manual"),
    requestedBy: text(),
    payeeFilter: jsonb().$type<string[] | null>(),
    // Bumped every few seconds by the slice working on the run; a run whose heartbeat is older than
    // one slice has lost its invocation, and the watchdog continues it.
    heartbeatAt: tstz(),
    // The chain of continuations allowed to work on the run. A take-over (watchdog, a re-trigger after
    // a stale heartbeat) starts a new chain, and a slice of an older chain stops instead of forking.
    executorChain: text(),
    plannedAt: tstz(),
    startedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    finishedAt: tstz(),
    // Totals frozen at the end (by status and currency) for reports; live counts come from payouts.
    totals: jsonb().$type<Record<string, unknown>>(),
    lastError: text(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // one real run per cycle; dry runs are reports and do not take the cycle
    uniqueIndex("payout_runs_cycle_key_key")
      .on(t.cycleKey)
      .where(sql`not ${t.dryRun}`),
    // health: recent and stuck runs
    index("payout_runs_status_heartbeat_idx").on(t.status, t.heartbeatAt),
    index("payout_runs_started_at_idx").on(t.startedAt),
  ],
);
export type PayoutRun = typeof payoutRuns.$inferSelect;

// awaiting_approval: above PAYOUT_APPROVAL_THRESHOLD_CENTS, waits for a second person (its money
// stays in available until approved); rejected / expired_unapproved: never approved, the money
// stayed in available and goes with the payee's next cycle (lib/payouts/approval.ts).
export const payoutStatuses = [
  "planned",
  "processing",
  "in_transit",
  "paid",
  "failed",
  "skipped",
  "awaiting_approval",
  "rejected",
  "expired_unapproved",
] as const;
export type PayoutStatus = (typeof payoutStatuses)[number];

export const payouts = pgTable(
  "payouts",
  {
    id: id(),
    // run_id, payee_id, connected_account_id and ledger_transaction_id reference payout_runs,
    // payees, connected_accounts and ledger_transactions. Planning inserts thousands of payouts in
    // one statement, so a trigger checks them once per statement instead of FOREIGN KEYs once per
    // row (0005_set_based_reference_checks.sql); the referenced rows can never be deleted.
    runId: uuid(),
    payeeId: uuid().notNull(),
    connectedAccountId: uuid(),
    stripeAccountId: text(),
    amountCents: bigint({ mode: "number" }).notNull(),
    currency: text().notNull(),
    // Part of the amount that sits on the platform (placements, adjustments) and needs a transfer
    // to the connected account before the payout; the rest is already there (destination charges).
    transferAmountCents: bigint({ mode: "number" }).notNull().default(0),
    status: text({ enum: payoutStatuses }).notNull().default("planned"),
    // below_threshold, not_eligible, paused, ...: why nothing moved
    skipReason: text(),
    failureCode: text(),
    failureMessage: text(),
    // Idempotency keys are derived from this row's id and stored before the Stripe call.
    transferIdempotencyKey: text(),
    payoutIdempotencyKey: text(),
    stripeTransferId: text(),
    // What the platform took back of the transfer (Stripe's cumulative amount_reversed): that money
    // is on the platform again.
    transferReversedCents: bigint({ mode: "number" }).notNull().default(0),
    stripePayoutId: text(),
    // First time we sent anything to Stripe for it; past 24 h Stripe forgets the idempotency key,
    // so a retry must look the object up first instead of sending again.
    firstAttemptAt: tstz(),
    attempts: integer().notNull().default(0),
    // How many times ops retried this payout after it failed. Each retry is a new generation whose
    // ledger postings and Stripe idempotency keys carry the number, so a second failure is reversed
    // again and a second payout is really sent (not answered from Stripe's idempotency cache).
    retries: integer().notNull().default(0),
    leaseOwner: text(),
    leaseExpiresAt: tstz(),
    // Posting that moved available -> in_transit for this payout.
    ledgerTransactionId: uuid(),
    // Manual / emergency payouts made outside a run say why here.
    note: text(),
    // run: planned by a payout run; out_of_band: paid by hand at Stripe while Payrun was down, and
    // recorded afterwards (lib/reconciliation/out-of-band.ts); instant: a payee's instant payout on
    // demand (lib/instant-payouts), no run.
    origin: text({ enum: ["run", "out_of_band", "instant"] }).notNull().default("run"),
    // An out-of-band payout's recording request key, or an instant payout's request key (the payee's
    // client sends one per confirmation): the same request twice records one payout.
    requestKey: text(),
    // Stripe's payout method: standard (the run), or instant (to a debit card, within minutes).
    method: text({ enum: ["standard", "instant"] }).notNull().default("standard"),
    // The platform's fee on an instant payout (INSTANT_PAYOUT_FEE_*), taken from the payee's available
    // balance on top of amount_cents (what reaches the bank); 0 for the run's payouts.
    feeCents: bigint({ mode: "number" }).notNull().default(0),
    // The part of the fee that sits on the connected account and is taken to the platform with an
    // account debit (a transfer made on the connected account to the platform), its key stored before
    // the call, and the debit's id once Stripe made it.
    feeDebitCents: bigint({ mode: "number" }).notNull().default(0),
    feeIdempotencyKey: text(),
    stripeFeeTransferId: text(),
    // Four-eyes approval of a large payout: the cycle's close (the next cycle's cutoff), after which
    // an unapproved payout is released to the next cycle; who decided, when, and why.
    approvalExpiresAt: tstz(),
    approvalDecidedBy: text(),
    approvalDecidedAt: tstz(),
    approvalReason: text(),
    arrivalDate: tstz(),
    paidAt: tstz(),
    failedAt: tstz(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // one payout per payee, currency and run
    uniqueIndex("payouts_run_payee_currency_key").on(t.runId, t.payeeId, t.currency),
    // webhook lookups
    uniqueIndex("payouts_stripe_payout_id_key")
      .on(t.stripePayoutId)
      .where(sql`${t.stripePayoutId} is not null`),
    uniqueIndex("payouts_stripe_transfer_id_key")
      .on(t.stripeTransferId)
      .where(sql`${t.stripeTransferId} is not null`),
    // execution claims: planned or lease-expired processing payouts of a run
    index("payouts_run_status_idx").on(t.runId, t.status),
    // payee history
    index("payouts_payee_created_idx").on(t.payeeId, t.createdAt),
    // health: failures in the last 7 days
    index("payouts_status_updated_idx").on(t.status, t.updatedAt),
    // planning's approval_pending check per payee, the approvals queue and the cycle-close expiry:
    // the few payouts awaiting approval
    index("payouts_awaiting_approval_idx")
      .on(t.payeeId, t.currency)
      .where(sql`${t.status} = 'awaiting_approval'`),
    // an out-of-band payout recorded once per request
    uniqueIndex("payouts_request_key_key")
      .on(t.requestKey)
      .where(sql`${t.requestKey} is not null`),
    // instant payouts of a payee per day (the daily limits) and the resume sweep's claim
    index("payouts_instant_payee_created_idx")
      .on(t.payeeId, t.createdAt)
      .where(sql`${t.origin} = 'instant'`),
    index("payouts_instant_status_idx")
      .on(t.status, t.leaseExpiresAt)
      .where(sql`${t.origin} = 'instant'`),
    check("payouts_amount_nonnegative", sql`${t.amountCents} >= 0`),
    check("payouts_fee_debit_within_fee", sql`${t.feeDebitCents} >= 0 and ${t.feeDebitCents} <= ${t.feeCents}`),
    check(
      "payouts_transfer_within_amount",
      sql`${t.transferAmountCents} >= 0 and ${t.transferAmountCents} <= ${t.amountCents}`,
    ),
  ],
);
export type Payout = typeof payouts.$inferSelect;
export type NewPayout = typeof payouts.$inferInsert;
