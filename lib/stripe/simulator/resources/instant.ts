import { balanceInsufficient, invalidRequest } from "../errors";
import { LIST_PARAMS, pathParam, type Route } from "../router";
import type { SimulatorState } from "../state";
import type { StoredObject } from "../types";
import { isRecord } from "../types";
import { findConnectedAccount } from "./accounts";

// Instant Payouts as Stripe documents them for Connect: a payout on the connected account with
// `method=instant` goes to an external account whose `available_payout_methods` includes `instant`
// (a debit card here), limited by the account's `instant_available` balance (GET /v1/balance), and
// arrives within about 30 minutes. Test accounts start with a bank account that takes standard
// payouts only; the control API adds an eligible debit card (POST /_simulator/accounts/:id/debit_card)
// and can cap instant_available below the available balance (POST /_simulator/accounts/:id/instant).

/** Instant payouts typically arrive within 30 minutes. */
export const INSTANT_ARRIVAL_SECONDS = 30 * 60;

/** The account's external accounts (bank accounts and cards), newest first as Stripe lists them. */
export function externalAccounts(state: SimulatorState, accountId: string): StoredObject[] {
  const account = state.lookup(accountId)?.object;
  const list = account && isRecord(account.external_accounts) ? account.external_accounts : undefined;
  return list && Array.isArray(list.data) ? (list.data.filter(isRecord) as StoredObject[]) : [];
}

const takesInstant = (external: StoredObject) =>
  Array.isArray(external.available_payout_methods) && external.available_payout_methods.includes("instant");

/** The external account an instant payout goes to: `destination` if given, else the first eligible one. */
export function instantDestination(
  state: SimulatorState,
  accountId: string,
  destination?: string,
): StoredObject {
  const all = externalAccounts(state, accountId);
  const chosen = destination ? all.find((e) => e.id === destination) : all.find(takesInstant);
  if (destination && !chosen)
    throw invalidRequest(
      `No such external account: '${destination}'`,
      "resource_missing",
      "destination",
      404,
    );
  if (!chosen || !takesInstant(chosen))
    throw invalidRequest(
      "This external account is not eligible for Instant Payouts. Try a debit card from a supported bank.",
      "instant_payouts_unsupported",
      "destination",
    );
  return chosen;
}

/** What the account can pay out instantly now: its available balance, capped by the control API, 0 without an eligible card. */
export function instantAvailable(state: SimulatorState, accountId: string, currency: string): number {
  if (!externalAccounts(state, accountId).some(takesInstant)) return 0;
  const available = Math.max(0, state.balances.get(accountId, currency).available);
  const cap = state.instantCaps.get(accountId);
  return cap === undefined ? available : Math.min(available, Math.max(0, cap));
}

/** Stripe's answer to an instant payout above `instant_available`. */
export function assertInstantAvailable(
  state: SimulatorState,
  accountId: string,
  amount: number,
  currency: string,
): void {
  const instant = instantAvailable(state, accountId, currency);
  if (amount > instant)
    throw balanceInsufficient(
      `You have insufficient funds in your Stripe account for this payout. Your ${currency.toUpperCase()} instant_available balance (${instant}) is too low. You can use the /v1/balance endpoint to view your Stripe balance (for more details, see stripe.com/docs/api#balance).`,
    );
}

/**
 * Adds an instant-eligible debit card to a connected account (as its default for its currency).
 * `failureCode`: every instant payout to this card fails when it would arrive (payout.failed with that
 * failure_code, e.g. `declined` or `unsupported_card`), the money back on the account.
 */
export function addDebitCard(
  state: SimulatorState,
  accountId: string,
  options: { failureCode?: string } = {},
): StoredObject {
  const account = findConnectedAccount(state, accountId);
  const card = state.build("card", "card");
  Object.assign(card, {
    account: account.id,
    available_payout_methods: ["standard", "instant"],
    brand: "Visa",
    country: typeof account.country === "string" ? account.country : "US",
    currency: typeof account.default_currency === "string" ? account.default_currency : state.config.currency,
    default_for_currency: true,
    funding: "debit",
    last4: options.failureCode ? "0069" : "5556",
    name: null,
    cvc_check: null,
    fingerprint: `sim${card.id.slice(-12)}`,
  });
  if (options.failureCode) state.instantCardFailures.set(card.id, options.failureCode);
  for (const other of externalAccounts(state, accountId)) other.default_for_currency = false;
  const list = isRecord(account.external_accounts) ? account.external_accounts : undefined;
  if (list && Array.isArray(list.data)) list.data.unshift(card);
  return card;
}

/** Caps `instant_available` (null lifts the cap). */
export function setInstantCap(
  state: SimulatorState,
  accountId: string,
  cap: number | null,
): { account: string; instant_available_cap: number | null } {
  findConnectedAccount(state, accountId);
  if (cap === null) state.instantCaps.delete(accountId);
  else state.instantCaps.set(accountId, cap);
  return { account: accountId, instant_available_cap: cap };
}

export const externalAccountRoutes: Route[] = [
  {
    method: "GET",
    pattern: "/v1/accounts/:id/external_accounts",
    allowedParams: [...LIST_PARAMS, "object"],
    handle: (ctx) => {
      const accountId = pathParam(ctx, "id");
      findConnectedAccount(ctx.state, accountId);
      const object = typeof ctx.params.object === "string" ? ctx.params.object : undefined;
      // A handful per account: one page, as Stripe's embedded list shows them.
      const items = externalAccounts(ctx.state, accountId).filter((e) => !object || e.object === object);
      return {
        object: "list",
        data: items,
        has_more: false,
        url: `/v1/accounts/${accountId}/external_accounts`,
      };
    },
  },
];
