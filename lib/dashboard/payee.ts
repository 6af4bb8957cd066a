import type { Db } from "../../db/client";
import type { ConnectedAccount } from "../../db/schema";
import { findConnectedAccount } from "../accounts";
import type { Env } from "../env";
import { payeeBalances } from "../ledger";
import { listPayeePayouts, previewPayeePayout } from "../payouts/queries";
import { listPayeeLedgerHistory } from "./ledger-history";
import { nextCycleAt } from "./next-payout";
import { section } from "./section";

// The payee dashboard's read model: every section read through the same lib/ functions the API
// uses, in parallel, each failing on its own.

export type OnboardingStatus = "not_started" | "incomplete" | "restricted" | "complete";

export function onboardingStatus(account: ConnectedAccount | null): OnboardingStatus {
  if (!account) return "not_started";
  if (!account.detailsSubmitted) return "incomplete";
  if (!account.payoutsEnabled) return "restricted";
  return "complete";
}

export async function loadPayeeDashboard(
  db: Db,
  env: Env,
  payeeId: string,
  options: { historyCursor?: string | null; payoutsCursor?: string | null; now?: Date } = {},
) {
  const now = options.now ?? new Date();
  // The preview says "paused" itself when payouts are paused; no separate read of the flag.
  const [balances, account, preview, payouts, history] = await Promise.all([
    section("balances", () => payeeBalances(db, payeeId)),
    section("account", () => findConnectedAccount(db, payeeId)),
    section("preview", () => previewPayeePayout(db, env, payeeId)),
    section("payouts", () => listPayeePayouts(db, payeeId, { limit: 10, cursor: options.payoutsCursor ?? undefined })),
    section("history", () => listPayeeLedgerHistory(db, payeeId, { limit: 25, cursor: options.historyCursor })),
  ]);
  return {
    balances,
    account,
    onboarding: account.ok ? onboardingStatus(account.data) : null,
    preview,
    payouts,
    history,
    nextCycle: nextCycleAt(now, env.PAYOUT_TIMEZONE),
    timeZone: env.PAYOUT_TIMEZONE,
  };
}

export type PayeeDashboard = Awaited<ReturnType<typeof loadPayeeDashboard>>;
