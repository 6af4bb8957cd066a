import { sql } from "drizzle-orm";
import { bigint, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, tstz, updatedAt } from "./columns";

// Reconciliation (lib/reconciliation): Stripe's balance transactions, ingested per account from a
// stored cursor, each resolved to the primary object the ledger references (ledger_stripe_refs);
// what does not agree is a break, kept until it agrees or someone resolves it.

export const stripeBalanceTransactions = pgTable(
  "stripe_balance_transactions",
  {
    // txn_...: Stripe's id, so ingesting the same page twice changes nothing.
    id: text().primaryKey(),
    // "platform" or the connected account (acct_...)
    account: text().notNull(),
    amount: bigint({ mode: "number" }).notNull(),
    fee: bigint({ mode: "number" }).notNull(),
    net: bigint({ mode: "number" }).notNull(),
    currency: text().notNull(),
    type: text().notNull(),
    reportingCategory: text(),
    // The object Stripe names as the source (ch_, tr_, po_, ...), if any.
    source: text(),
    // The object the ledger references for it: the charge of a destination charge's transfer,
    // payment and fee; the refund of a reversal; a payout's transfer; ... (lib/reconciliation/resolve.ts)
    primaryObject: text().notNull(),
    // payrun: money Payrun's postings mirror; platform_own: the platform's own top-ups and payouts.
    scope: text({ enum: ["payrun", "platform_own"] }).notNull(),
    status: text(),
    created: timestamp({ withTimezone: true }).notNull(),
    availableOn: tstz(),
    ingestedAt: createdAt(),
  },
  (t) => [
    // matching: the transactions of an object on an account
    index("stripe_bt_account_object_idx").on(t.account, t.primaryObject),
    // the ops page and drills: an account's newest transactions
    index("stripe_bt_account_created_idx").on(t.account, t.created),
    // matching: what was stored on an account since its last pass
    index("stripe_bt_account_ingested_idx").on(t.account, t.ingestedAt),
  ],
);
export type StripeBalanceTransaction = typeof stripeBalanceTransactions.$inferSelect;

// One row per Stripe account reconciliation looks at, with its cursor and its place in the pass.
export const reconciliationAccounts = pgTable(
  "reconciliation_accounts",
  {
    account: text().primaryKey(),
    // Newest balance transaction seen (Stripe's created, seconds): the next ingest starts there.
    cursorCreated: bigint({ mode: "number" }),
    // The pass this account was last reconciled in.
    passId: uuid(),
    leaseOwner: text(),
    leaseExpiresAt: tstz(),
    lastReconciledAt: tstz(),
    // Refs created since this moment (less an hour of overlap) are matched on the next pass.
    matchedUntil: tstz(),
    lastError: text(),
    updatedAt: updatedAt(),
  },
  (t) => [index("reconciliation_accounts_pass_idx").on(t.passId)],
);

export const reconciliationRuns = pgTable(
  "reconciliation_runs",
  {
    id: id(),
    status: text({ enum: ["running", "completed"] }).notNull().default("running"),
    startedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    finishedAt: tstz(),
    accountsTotal: integer().notNull().default(0),
    accountsDone: integer().notNull().default(0),
    transactionsIngested: integer().notNull().default(0),
    breaksOpened: integer().notNull().default(0),
    breaksClosed: integer().notNull().default(0),
    failures: integer().notNull().default(0),
  },
  (t) => [
    index("reconciliation_runs_started_idx").on(t.startedAt),
    // one pass at a time
    uniqueIndex("reconciliation_runs_one_running_key").on(t.status).where(sql`${t.status} = 'running'`),
  ],
);
export type ReconciliationRun = typeof reconciliationRuns.$inferSelect;

export const breakKinds = [
  "missing_in_ledger",
  "missing_at_stripe",
  "amount_mismatch",
  "currency_mismatch",
  "payout_missing_transfers",
  "balance_drift",
] as const;
export type BreakKind = (typeof breakKinds)[number];

export const reconciliationBreaks = pgTable(
  "reconciliation_breaks",
  {
    id: id(),
    kind: text({ enum: breakKinds }).notNull(),
    // What disagrees: "<account>|<object>" (a balance drift: "<account>|balance|<currency>").
    subject: text().notNull(),
    account: text().notNull(),
    stripeObject: text(),
    currency: text(),
    stripeAmount: bigint({ mode: "number" }),
    ledgerAmount: bigint({ mode: "number" }),
    details: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    status: text({ enum: ["open", "resolved", "closed"] }).notNull().default("open"),
    firstSeenAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    // closed: it agreed later (a late webhook); resolved: someone accepted it, saying why.
    closedAt: tstz(),
    resolvedAt: tstz(),
    resolvedBy: text(),
    resolution: text(),
    createdAt: createdAt(),
  },
  (t) => [
    // one open break per subject
    uniqueIndex("reconciliation_breaks_open_subject_key")
      .on(t.subject)
      .where(sql`${t.status} = 'open'`),
    // the ops page: open breaks by kind; the metric: payouts missing transfers of the last 24 h
    index("reconciliation_breaks_kind_status_idx").on(t.kind, t.status, t.firstSeenAt),
  ],
);
export type ReconciliationBreak = typeof reconciliationBreaks.$inferSelect;

// Every invocation of an internal sweep, with what it did: the job failure counts that health shows
// and that alert above a threshold (lib/reconciliation/alerts.ts).
export const sweepRuns = pgTable(
  "sweep_runs",
  {
    id: id(),
    sweep: text().notNull(),
    processed: integer().notNull(),
    failed: integer().notNull(),
    remaining: integer().notNull(),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // failure counts per sweep over the last 24 hours
    index("sweep_runs_at_idx").on(t.at),
  ],
);
