import { sql } from "drizzle-orm";
import { boolean, check, index, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, tstz, updatedAt } from "./columns";
import { connectedAccounts, payees } from "./payees";

// Bank accounts Stripe holds for payees' connected accounts (their `external_accounts`), as far as
// Payrun needs them: Stripe's `fingerprint` of the bank account number, to find two payees paid into
// one bank account (lib/accounts/bank-accounts.ts). No account or routing number is stored.
export const externalBankAccounts = pgTable(
  "external_bank_accounts",
  {
    id: id(),
    // Stripe's ba_ id.
    stripeExternalAccountId: text().notNull(),
    stripeAccountId: text().notNull(),
    connectedAccountId: uuid()
      .notNull()
      .references(() => connectedAccounts.id),
    payeeId: uuid()
      .notNull()
      .references(() => payees.id),
    fingerprint: text(),
    last4: text(),
    bankName: text(),
    country: text(),
    currency: text(),
    // Removed at Stripe (account.external_account.deleted, or gone from the account's list).
    deleted: boolean().notNull().default(false),
    // `created` of the newest Stripe event applied to this row: an older one never overwrites it.
    stripeStateAt: tstz(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("external_bank_accounts_stripe_id_key").on(t.stripeExternalAccountId),
    // who else banks here: live accounts by fingerprint
    index("external_bank_accounts_fingerprint_idx")
      .on(t.fingerprint)
      .where(sql`not ${t.deleted} and ${t.fingerprint} is not null`),
    // an account's list, when account.updated brings all of it
    index("external_bank_accounts_stripe_account_idx").on(t.stripeAccountId),
  ],
);
export type ExternalBankAccount = typeof externalBankAccounts.$inferSelect;

export const bankAccountMatchStatuses = ["open", "confirmed", "cleared", "resolved"] as const;
export type BankAccountMatchStatus = (typeof bankAccountMatchStatuses)[number];

// Two payees whose connected accounts share a bank account (one fingerprint). open: found, both
// payees' payouts held (duplicate_bank_account) until a platform admin decides; confirmed: ops say it
// is a real duplicate, both stay held; cleared: ops say it is fine, payouts go on; resolved: the two
// no longer share it (changed or removed at Stripe) before anyone decided, so the hold lifted.
export const bankAccountMatches = pgTable(
  "bank_account_matches",
  {
    id: id(),
    fingerprint: text().notNull(),
    // The pair in id order, so one pair is one row whoever was seen first.
    payeeA: uuid()
      .notNull()
      .references(() => payees.id),
    payeeB: uuid()
      .notNull()
      .references(() => payees.id),
    status: text({ enum: bankAccountMatchStatuses }).notNull().default("open"),
    decidedBy: text(),
    decidedAt: tstz(),
    decisionReason: text(),
    resolvedAt: tstz(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("bank_account_matches_pair_key").on(t.fingerprint, t.payeeA, t.payeeB),
    // planning's hold check, per payee, on either side
    index("bank_account_matches_holding_a_idx").on(t.payeeA).where(sql`${t.status} in ('open', 'confirmed')`),
    index("bank_account_matches_holding_b_idx").on(t.payeeB).where(sql`${t.status} in ('open', 'confirmed')`),
    check("bank_account_matches_pair_ordered", sql`${t.payeeA} < ${t.payeeB}`),
  ],
);
export type BankAccountMatch = typeof bankAccountMatches.$inferSelect;
