import { applyBankAccounts, bankAccountsOfAccount } from "../../accounts/bank-accounts";
import { accountStateFromStripe, applyConnectedAccountState } from "../../accounts/state";
import { applied, type HandlerOf, eventTime, pending } from "../types";

// account.updated: onboarding progress, capabilities, requirements, payout schedule, and the bank
// accounts (their fingerprints: a bank account two payees share holds both payees' payouts).
export const handleAccountUpdated: HandlerOf<"account.updated"> = async (tx, { event, actor, gateway }) => {
  const state = accountStateFromStripe(event.data.object, eventTime(event));
  const result = await applyConnectedAccountState(tx, state, {
    actor,
    idempotencyKey: `account-updated-manual-schedule:${event.id}`,
    gateway,
  });
  // Possibly created a moment ago and not stored yet (the account row is written after Stripe answers).
  if (result.outcome === "unknown_account") return pending(`connected account ${state.stripeAccountId} not known yet`);
  const banks = result.outcome === "updated" ? bankAccountsOfAccount(event.data.object) : null;
  if (banks) {
    await applyBankAccounts(tx, { stripeAccountId: state.stripeAccountId, ...banks, stateAt: state.stateAt, actor });
  }
  return applied;
};
