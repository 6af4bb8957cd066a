import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { createdAt, id } from "./columns";
import { payees } from "./payees";

export const payeeAccountKinds = ["pending", "available", "held", "in_transit", "paid"] as const;
// fees: the platform's fee revenue; stripe_clearing: the counterpart of money entering or leaving
// through Stripe (customers' payments, refunds to them); adjustments: manual corrections; losses:
// refunds and disputes the platform bears; stripe_fees: what Stripe charges the platform;
// client_funds: what clients paid on invoices (captures less refunds, plus manual charges and credits
// to clients), not yet applied to a placement share (lib/billing, docs/BILLING.md).
export const platformAccountKinds = ["fees", "stripe_clearing", "adjustments", "losses", "stripe_fees", "client_funds"] as const;
export type PayeeAccountKind = (typeof payeeAccountKinds)[number];
export type PlatformAccountKind = (typeof platformAccountKinds)[number];
export type LedgerAccountKind = PayeeAccountKind | PlatformAccountKind;

// Where a payee's money physically is: on the platform's Stripe balance, on the payee's connected
// account's Stripe balance, or gone from Stripe to the bank (a payout sent or paid).
export const fundsLocations = ["platform", "connected", "bank"] as const;
export type FundsLocation = (typeof fundsLocations)[number];

/** Every (kind, location) a payee account can have; a payee's first posting in a currency opens all. */
export const payeeAccountSlots: readonly (readonly [PayeeAccountKind, FundsLocation])[] = [
  ["pending", "platform"],
  ["available", "platform"],
  ["available", "connected"],
  ["held", "platform"],
  ["held", "connected"],
  ["in_transit", "platform"],
  ["in_transit", "connected"],
  ["in_transit", "bank"],
  ["paid", "bank"],
];

// One row per (owner, kind, location, currency). Balances are kept beside it in ledger_balances,
// maintained by the database from the entries.
export const ledgerAccounts = pgTable(
  "ledger_accounts",
  {
    id: id(),
    ownerType: text({ enum: ["payee", "platform"] }).notNull(),
    payeeId: uuid().references(() => payees.id),
    kind: text().$type<LedgerAccountKind>().notNull(),
    // Where the money of this account is (payee accounts); platform accounts are all "platform".
    location: text().$type<FundsLocation>().notNull().default("platform"),
    currency: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    // account lookup when posting: (payee, kind, location, currency); platform accounts have payee_id null
    uniqueIndex("ledger_accounts_owner_kind_location_currency_key")
      .on(t.ownerType, t.payeeId, t.kind, t.location, t.currency)
      .where(sql`${t.payeeId} is not null`),
    uniqueIndex("ledger_accounts_platform_kind_currency_key")
      .on(t.kind, t.currency)
      .where(sql`${t.payeeId} is null`),
    check(
      "ledger_accounts_owner_consistent",
      sql`(${t.ownerType} = 'payee') = (${t.payeeId} is not null)`,
    ),
    check(
      "ledger_accounts_kind_valid",
      sql`(${t.ownerType} = 'payee' and (${t.kind}, ${t.location}) in (('pending','platform'), ('available','platform'),
          ('available','connected'), ('held','platform'), ('held','connected'), ('in_transit','platform'),
          ('in_transit','connected'), ('in_transit','bank'), ('paid','bank')))
        or (${t.ownerType} = 'platform' and ${t.location} = 'platform'
            and ${t.kind} in ('fees','stripe_clearing','adjustments','losses','stripe_fees','client_funds'))`,
    ),
    check("ledger_accounts_currency_format", sql`${t.currency} ~ '^[a-z]{3}$'`),
  ],
);
export type LedgerAccount = typeof ledgerAccounts.$inferSelect;

// The running balance of each account: sum(amount) of its entries, kept by a trigger in the same
// statement that inserts them and writable by nothing else (0008_running_balances.sql), so a
// balance costs the same whatever the history. Platform accounts, which nearly every posting
// touches, are spread over 16 shards (by transaction) so concurrent postings do not queue on one
// row; a payee account has shard 0 only, which a debit locks for its overdraft check.
export const ledgerBalances = pgTable(
  "ledger_balances",
  {
    accountId: uuid().notNull(),
    shard: smallint().notNull(),
    balance: bigint({ mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.shard] })],
);
export type LedgerBalance = typeof ledgerBalances.$inferSelect;

export const ledgerTransactions = pgTable(
  "ledger_transactions",
  {
    id: id(),
    // Posting the same key twice returns the first transaction and writes nothing.
    idempotencyKey: text().notNull(),
    // What happened, machine-readable: earning, payout_planned, payout_paid, refund, ...
    kind: text().notNull(),
    description: text().notNull(),
    // References payees(id), checked per INSERT statement by a trigger (0005_set_based_reference_checks.sql).
    payeeId: uuid(),
    // Where it came from: a payout, a processor event, a placement, a hold, a user action.
    sourceType: text(),
    sourceId: text(),
    metadata: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    // This posting may take a payee's available balance below zero (a refund, a dispute: the payee
    // owes it). Every other posting that would overdraw a payee account is refused by the database.
    allowOverdraft: boolean().notNull().default(false),
    // When the money event happened (e.g. the charge time); created_at is when we recorded it.
    effectiveAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("ledger_transactions_idempotency_key_key").on(t.idempotencyKey),
    // payee dashboard "earnings and deductions": newest by when the money moved, keyset on (effective_at, id)
    index("ledger_transactions_payee_effective_idx").on(t.payeeId, t.effectiveAt, t.id),
    // the accounting journal export: every transaction by when the money moved, keyset on (effective_at, id)
    index("ledger_transactions_effective_idx").on(t.effectiveAt, t.id),
    // postings by what caused them (refunds of a charge, ...). Payout postings stay out: they are
    // found by their idempotency keys (lib/payouts/keys.ts), and planning writes thousands at once.
    index("ledger_transactions_source_idx")
      .on(t.sourceType, t.sourceId)
      .where(sql`${t.sourceType} <> 'payout'`),
    // refunds and disputes find their earning by charge id when the event has no payment intent
    index("ledger_transactions_earning_charge_idx")
      .on(sql`(${t.metadata}->>'charge')`)
      .where(sql`${t.kind} = 'earning'`),
  ],
);
export type LedgerTransaction = typeof ledgerTransactions.$inferSelect;

// Append-only; a trigger refuses UPDATE/DELETE and any statement that leaves a transaction
// unbalanced per currency or refers to a missing transaction or account
// (db/migrations/0001_ledger_guards.sql, 0005_set_based_reference_checks.sql).
// Sign convention: balance(account) = sum(amount). Money arriving in a bucket is positive, the
// bucket it came from gets the negative twin, so every transaction sums to zero per currency.
export const ledgerEntries = pgTable(
  "ledger_entries",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    // References ledger_transactions(id) and ledger_accounts(id), checked once per INSERT statement
    // by the guard trigger rather than per row by a FOREIGN KEY (see docs/ARCHITECTURE.md, "Set-based
    // reference checks"); neither referenced table allows UPDATE or DELETE.
    transactionId: uuid().notNull(),
    accountId: uuid().notNull(),
    amount: bigint({ mode: "number" }).notNull(),
    currency: text().notNull(),
    // Denormalised from the transaction so balance-at-cutoff is one index range scan.
    effectiveAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    createdAt: createdAt(),
  },
  (t) => [
    // balance queries: sum(amount) per account, optionally up to a cutoff
    index("ledger_entries_account_effective_idx").on(t.accountId, t.effectiveAt, t.amount),
    // the entries of a page of transactions (payee ledger history)
    index("ledger_entries_transaction_idx").on(t.transactionId),
    // planning and as-of balances: entries effective after a recent moment. BRIN: entries arrive
    // roughly in effective order, so a few block ranges hold the recent ones, at almost no cost per insert.
    // autosummarize: a block range is summarised as soon as it is full; an unsummarised range is
    // read whole by every query, so without it a bulk of fresh entries is scanned until a vacuum.
    index("ledger_entries_effective_brin").using("brin", t.effectiveAt).with({ autosummarize: true }),
    check("ledger_entries_amount_nonzero", sql`${t.amount} <> 0`),
  ],
);
export type LedgerEntry = typeof ledgerEntries.$inferSelect;

// What a posting expects Stripe to show: the net change it makes to one Stripe account's balance
// ("platform", or a connected account's acct_ id) through one Stripe object (the primary object the
// balance transactions resolve to: the charge of a destination charge, a payout, a refund, a
// transfer, a fee refund, a dispute). Written with the posting, append-only like the ledger;
// reconciliation sums Stripe's balance transactions per (object, account) and compares.
export const ledgerStripeRefs = pgTable(
  "ledger_stripe_refs",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    transactionId: uuid().notNull(),
    stripeAccount: text().notNull(),
    stripeObject: text().notNull(),
    amount: bigint({ mode: "number" }).notNull(),
    currency: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    // reconciliation: what the ledger expects of an object on an account
    index("ledger_stripe_refs_object_idx").on(t.stripeObject, t.stripeAccount),
    // reconciliation: what changed on an account since its last pass
    index("ledger_stripe_refs_account_created_idx").on(t.stripeAccount, t.createdAt),
    // a posting's refs
    index("ledger_stripe_refs_transaction_idx").on(t.transactionId),
  ],
);
export type LedgerStripeRef = typeof ledgerStripeRefs.$inferSelect;
