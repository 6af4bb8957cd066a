import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, jsonb, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, tstz, updatedAt } from "./columns";

export const payees = pgTable(
  "payees",
  {
    id: id(),
    // The marketplace's own id for this creator/recruiter, so its systems can find the payee.
    externalRef: text(),
    displayName: text().notNull(),
    email: text().notNull(),
    // Supabase auth user id of the person who signs in as this payee.
    userId: uuid(),
    country: text().notNull().default("US"),
    defaultCurrency: text().notNull().default("usd"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // lookup from the marketplace's id and from the signed-in user
    uniqueIndex("payees_external_ref_key").on(t.externalRef),
    uniqueIndex("payees_user_id_key").on(t.userId),
  ],
);
export type Payee = typeof payees.$inferSelect;
export type NewPayee = typeof payees.$inferInsert;

export const connectedAccounts = pgTable(
  "connected_accounts",
  {
    id: id(),
    payeeId: uuid()
      .notNull()
      .references(() => payees.id),
    stripeAccountId: text().notNull(),
    type: text({ enum: ["express", "standard", "custom"] })
      .notNull()
      .default("express"),
    country: text().notNull().default("US"),
    chargesEnabled: boolean().notNull().default(false),
    payoutsEnabled: boolean().notNull().default(false),
    detailsSubmitted: boolean().notNull().default(false),
    requirementsCurrentlyDue: jsonb().$type<string[]>().notNull().default([]),
    disabledReason: text(),
    // Stripe's business_type (individual, company, non_profit, government_entity), with `country` the
    // tax identity the annual statement shows; null until the payee says during onboarding.
    businessType: text(),
    // Stripe's settings.payouts.schedule.interval; Payrun keeps it "manual" (the run issue).
    payoutScheduleInterval: text().notNull().default("manual"),
    // `created` of the newest account.updated applied, so an older event never overwrites newer state.
    stripeStateAt: tstz(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("connected_accounts_payee_id_key").on(t.payeeId),
    // webhook lookup: account.updated, payment_intent.succeeded carry the acct_ id
    uniqueIndex("connected_accounts_stripe_account_id_key").on(t.stripeAccountId),
  ],
);
export type ConnectedAccount = typeof connectedAccounts.$inferSelect;

export const payoutSettings = pgTable(
  "payout_settings",
  {
    payeeId: uuid()
      .primaryKey()
      .references(() => payees.id),
    payoutsEnabled: boolean().notNull().default(true),
    betaRollout: boolean().notNull().default(false),
    // Per-payee floor; the run uses max(PAYOUT_MIN_THRESHOLD_CENTS, this).
    minimumPayoutCents: bigint({ mode: "number" }),
    updatedAt: updatedAt(),
  },
  (t) => [check("payout_settings_minimum_nonnegative", sql`${t.minimumPayoutCents} >= 0`)],
);
export type PayoutSettings = typeof payoutSettings.$inferSelect;

// Platform-wide switches that ops flip at run time (payouts paused, ...). One row per key.
export const platformSettings = pgTable(
  "platform_settings",
  {
    key: text().primaryKey(),
    value: jsonb().notNull(),
    updatedBy: text(),
    updatedAt: updatedAt(),
  },
  (t) => [index("platform_settings_updated_at_idx").on(t.updatedAt)],
);
