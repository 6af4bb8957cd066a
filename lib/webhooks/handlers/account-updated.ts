import { accountStateFromStripe, applyConnectedAccountState } from "../../accounts/state";
import { applied, type HandlerOf, eventTime, pending } from "../types";

// account.updated: onboarding progress, capabilities, requirements, payout schedule.
export const handleAccountUpdated: HandlerOf<"account.updated"> = async (tx, { event, actor, gateway }) => {
  const state = accountStateFromStripe(event.data.object, eventTime(event));
  const result = await applyConnectedAccountState(tx, state, {
    actor,
    idempotencyKey: `account-updated-manual-schedule:${event.id}`,
    gateway,
  });
  // Possibly created a moment ago and not stored yet (the account row is written after Stripe answers).
  if (result.outcome === "unknown_account") return pending(`connected account ${state.stripeAccountId} not known yet`);
  return applied;
};
