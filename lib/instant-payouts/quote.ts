import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { Actor } from "../actor";
import type { Env } from "../env";
import { DomainError } from "../errors";
import { payeeBalancesByLocation } from "../ledger/balances";
import { percentOf, toCents } from "../money";
import { isPayoutsPaused } from "../payouts/pause";
import type { StripeGateway } from "../stripe/gateway";

// What an instant payout would be now, for the payee to see before confirming: the amount, the
// platform's fee (INSTANT_PAYOUT_FEE_PERCENT of it, at least INSTANT_PAYOUT_FEE_MIN_CENTS), what
// reaches the card, and why not when it cannot be made. The same rules run again, under the lock,
// when the payee confirms (request.ts).

export type InstantEnv = Pick<
  Env,
  | "INSTANT_PAYOUT_FEE_PERCENT"
  | "INSTANT_PAYOUT_FEE_MIN_CENTS"
  | "INSTANT_PAYOUT_DAILY_COUNT"
  | "INSTANT_PAYOUT_DAILY_LIMIT_CENTS"
  | "PAYOUTS_PAUSED"
>;

export type InstantGateway = Pick<
  StripeGateway,
  | "listExternalAccounts"
  | "retrieveBalance"
  | "retrievePlatformAccount"
  | "createTransfer"
  | "createAccountDebit"
  | "createPayout"
  | "listTransfers"
  | "listPayouts"
>;

/**
 * Who may see a quote for, or take, a payee's instant payout: the payee themselves, or a platform
 * admin (for support). Anyone else is refused (403), whatever the payee id.
 */
export function assertMayTakeInstant(actor: Actor, payeeId: string): void {
  if (actor.type === "user" && actor.role === "platform_admin") return;
  if (actor.type === "user" && actor.role === "payee" && actor.payeeId === payeeId) return;
  throw new DomainError(
    "forbidden",
    "Only the payee themselves (or a platform admin) may take an instant payout of this balance.",
  );
}

/** The platform's fee on an instant payout of `amountCents` (gross, taken from available). */
export function instantFee(
  amountCents: number,
  env: Pick<Env, "INSTANT_PAYOUT_FEE_PERCENT" | "INSTANT_PAYOUT_FEE_MIN_CENTS">,
): number {
  return Math.max(env.INSTANT_PAYOUT_FEE_MIN_CENTS, percentOf(amountCents, env.INSTANT_PAYOUT_FEE_PERCENT));
}

export type InstantQuote = {
  payeeId: string;
  currency: string;
  /** The payee's available balance in the ledger (every location). */
  availableCents: number;
  /** What Stripe can pay out instantly on the connected account now (instant_available), plus what the platform holds for the payee. */
  instantAvailableCents: number;
  /** The most this payee can take instantly now, fee included. */
  maxAmountCents: number;
  /** The amount asked for (default: the maximum), the fee on it, and what reaches the card. */
  amountCents: number;
  feeCents: number;
  netCents: number;
  feePercent: number;
  feeMinimumCents: number;
  daily: { count: number; countLimit: number; amountCents: number; amountLimitCents: number };
  card: { brand: string | null; last4: string | null } | null;
  eligible: boolean;
  /** Why not, in words for the payee, when not eligible. */
  reason: string | null;
};

export type PayeeAccount = {
  connected_account_id: string | null;
  stripe_account_id: string | null;
  payouts_enabled: boolean | null;
  charges_enabled: boolean | null;
  details_submitted: boolean | null;
  settings_enabled: boolean | null;
};

export async function payeeAccount(db: Db, payeeId: string): Promise<PayeeAccount> {
  const [row] = await queryRows<PayeeAccount & { id: string }>(
    db,
    sql`select p.id, ca.id as connected_account_id, ca.stripe_account_id, ca.payouts_enabled, ca.charges_enabled,
               ca.details_submitted, ps.payouts_enabled as settings_enabled
          from payees p
          left join connected_accounts ca on ca.payee_id = p.id
          left join payout_settings ps on ps.payee_id = p.id
         where p.id = ${payeeId}`,
  );
  if (!row) throw new DomainError("not_found", "payee not found");
  return row;
}

/** Instant payouts of the payee today (UTC), failed ones left out: their money came back. */
export async function dailyUsage(db: Db, payeeId: string): Promise<{ count: number; amountCents: number }> {
  const [row] = await queryRows<{ n: string | number; total: string | number | null }>(
    db,
    sql`select count(*) as n, coalesce(sum(amount_cents + fee_cents), 0) as total from payouts
         where origin = 'instant' and payee_id = ${payeeId} and status <> 'failed'
           and created_at >= date_trunc('day', now() at time zone 'UTC') at time zone 'UTC'`,
  );
  return { count: Number(row?.n ?? 0), amountCents: toCents(row?.total ?? 0) };
}

/**
 * The payee's available balance in one currency: what can be paid (`total`, as the run counts it:
 * every location together, so money a refund overdrew on one side is owed from the other) and where
 * the positive parts are (`platform`, `connected`), which decide the transfer and the fee's debit.
 */
export async function availableByLocation(
  db: Db,
  payeeId: string,
  currency: string,
): Promise<{ platform: number; connected: number; total: number }> {
  const rows = await payeeBalancesByLocation(db, payeeId);
  const of = (location: string) =>
    rows.find((r) => r.currency === currency && r.kind === "available" && r.location === location)?.balance ??
    0;
  return {
    platform: Math.max(0, of("platform")),
    connected: Math.max(0, of("connected")),
    total: Math.max(0, of("platform") + of("connected")),
  };
}

/** Why this payee cannot take an instant payout at all (account, settings, pause), or null. */
export function accountRefusal(account: PayeeAccount): string | null {
  if (
    !account.stripe_account_id ||
    !(account.payouts_enabled && account.charges_enabled && account.details_submitted)
  )
    return "Finish setting up your payout account first.";
  if (account.settings_enabled === false) return "Payouts are turned off for your account.";
  return null;
}

/** Stripe's view: an eligible debit card (available_payout_methods includes instant) and instant_available. */
export async function stripeInstantState(gateway: InstantGateway, stripeAccount: string, currency: string) {
  const [externals, balance] = await Promise.all([
    gateway.listExternalAccounts(stripeAccount),
    gateway.retrieveBalance(stripeAccount),
  ]);
  const card = externals.data.find((e) => e.available_payout_methods?.includes("instant"));
  const instant = balance.instant_available?.find((b) => b.currency === currency)?.amount ?? 0;
  return {
    card: card ? { brand: card.object === "card" ? card.brand : card.bank_name, last4: card.last4 } : null,
    instantAvailableCents: Math.max(0, instant),
  };
}

/**
 * The quote for `amountCents` (or the most the payee can take), read from the ledger and Stripe. Never
 * writes. A payee with nothing to take, no eligible card, or over today's limits gets `eligible: false`
 * and the reason.
 */
export async function quoteInstantPayout(
  db: Db,
  gateway: InstantGateway,
  env: InstantEnv,
  input: { payeeId: string; currency: string; amountCents?: number },
): Promise<InstantQuote> {
  const account = await payeeAccount(db, input.payeeId);
  const [available, daily, paused] = await Promise.all([
    availableByLocation(db, input.payeeId, input.currency),
    dailyUsage(db, input.payeeId),
    isPayoutsPaused(db, env),
  ]);
  let reason =
    accountRefusal(account) ??
    (paused ? "Payouts are paused by the platform for now; please try again later." : null);
  const stripe =
    reason === null && account.stripe_account_id
      ? await stripeInstantState(gateway, account.stripe_account_id, input.currency)
      : { card: null, instantAvailableCents: 0 };
  if (reason === null && !stripe.card)
    reason = "Add a debit card that accepts instant payouts to your payout account first.";
  const availableCents = available.total;
  // What the platform holds for the payee is transferred to the connected account first, so it is
  // instantly available there too; the fee comes out of the same money.
  const instantAvailableCents = stripe.instantAvailableCents + available.platform;
  const leftToday = Math.max(0, env.INSTANT_PAYOUT_DAILY_LIMIT_CENTS - daily.amountCents);
  const maxAmountCents = Math.max(0, Math.min(availableCents, instantAvailableCents, leftToday));
  const amountCents = input.amountCents ?? maxAmountCents;
  const feeCents = instantFee(amountCents, env);
  if (reason === null)
    reason = limitRefusal(env, daily, amountCents, maxAmountCents, feeCents, availableCents);
  return {
    payeeId: input.payeeId,
    currency: input.currency,
    availableCents,
    instantAvailableCents,
    maxAmountCents,
    amountCents,
    feeCents,
    netCents: Math.max(0, amountCents - feeCents),
    feePercent: env.INSTANT_PAYOUT_FEE_PERCENT,
    feeMinimumCents: env.INSTANT_PAYOUT_FEE_MIN_CENTS,
    daily: {
      count: daily.count,
      countLimit: env.INSTANT_PAYOUT_DAILY_COUNT,
      amountCents: daily.amountCents,
      amountLimitCents: env.INSTANT_PAYOUT_DAILY_LIMIT_CENTS,
    },
    card: stripe.card,
    eligible: reason === null,
    reason,
  };
}

/** The per-day limits and the amount's own rules; null when the amount can be paid. */
export function limitRefusal(
  env: InstantEnv,
  daily: { count: number; amountCents: number },
  amountCents: number,
  maxAmountCents: number,
  feeCents: number,
  availableCents: number,
): string | null {
  if (env.INSTANT_PAYOUT_DAILY_COUNT === 0) return "Instant payouts are not offered.";
  if (daily.count >= env.INSTANT_PAYOUT_DAILY_COUNT)
    return `You have taken ${daily.count} instant payouts today, the most allowed per day; the rest comes with the next scheduled payout.`;
  if (availableCents <= 0)
    return "Nothing is available to pay out now (money already in a payout is on its way).";
  if (daily.amountCents + amountCents > env.INSTANT_PAYOUT_DAILY_LIMIT_CENTS)
    return "This is more than the instant payout limit left for today.";
  if (amountCents > maxAmountCents) return "This is more than can be paid out instantly now.";
  if (amountCents <= feeCents) return "The amount must be more than the instant payout fee.";
  return null;
}
