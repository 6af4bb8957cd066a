import { applyBankAccounts, bankAccountFromStripe } from "../../accounts/bank-accounts";
import {
  applied,
  type EventHandler,
  type EventOf,
  type HandlerOf,
  eventTime,
  ignored,
  pending,
} from "../types";

// account.external_account.created / updated / deleted: one bank account of a connected account
// (Stripe sends the account's id as the event's `account`), its fingerprint compared with every other
// payee's. A card is not a bank account: ignored.
type ExternalAccountEvent = EventOf<
  "account.external_account.created" | "account.external_account.updated" | "account.external_account.deleted"
>;

const handle: EventHandler<ExternalAccountEvent> = async (tx, { event, actor }) => {
  const bank = bankAccountFromStripe(event.data.object);
  if (!bank) return ignored;
  const stripeAccountId =
    event.account ?? (typeof event.data.object.account === "string" ? event.data.object.account : null);
  if (!stripeAccountId) return ignored;
  const state = event.type === "account.external_account.deleted" ? { ...bank, deleted: true } : bank;
  const result = await applyBankAccounts(tx, {
    stripeAccountId,
    accounts: [state],
    complete: false,
    stateAt: eventTime(event),
    actor,
  });
  if (result.outcome === "unknown_account")
    return pending(`connected account ${stripeAccountId} not known yet`);
  return applied;
};

export const handleExternalAccountCreated: HandlerOf<"account.external_account.created"> = handle;
export const handleExternalAccountUpdated: HandlerOf<"account.external_account.updated"> = handle;
export const handleExternalAccountDeleted: HandlerOf<"account.external_account.deleted"> = handle;
