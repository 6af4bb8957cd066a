import { invalidRequest } from "../errors";
import { optionalString, optionalStringArray } from "../form";
import { LIST_PARAMS, listResponse, pathParam, type Route, type RouteContext } from "../router";
import type { StoredObject } from "../types";
import { instantAvailable } from "./instant";
import { isRecord } from "../types";

function balanceFor(ctx: RouteContext): Record<string, unknown> {
  const { state } = ctx;
  const currencies = state.balances.currencies(ctx.account);
  if (currencies.length === 0) currencies.push(state.config.currency);
  const balance = state.build("balance", "bal");
  Reflect.deleteProperty(balance, "id");
  const funds = currencies.map((currency) => ({ currency, ...state.balances.get(ctx.account, currency) }));
  balance.available = funds.map((f) => ({
    amount: f.available,
    currency: f.currency,
    source_types: { card: f.available },
  }));
  balance.pending = funds.map((f) => ({
    amount: f.pending,
    currency: f.currency,
    source_types: { card: f.pending },
  }));
  balance.connect_reserved = ctx.connected ? [] : funds.map((f) => ({ amount: 0, currency: f.currency }));
  // What Instant Payouts can take now (resources/instant.ts): 0 without an eligible debit card.
  balance.instant_available = funds.map((f) => {
    const amount = instantAvailable(state, ctx.account, f.currency);
    return { amount, currency: f.currency, source_types: { card: amount } };
  });
  balance.livemode = false;
  return balance;
}

/** `created[gte]`/`created[lte]`/... range filters as Stripe's list endpoints take them. */
export function createdFilter(ctx: RouteContext): ((item: StoredObject) => boolean) | undefined {
  const created = ctx.params.created;
  if (created === undefined) return undefined;
  if (typeof created === "string") {
    const exact = Number(created);
    return (item) => item.created === exact;
  }
  if (!isRecord(created)) return undefined;
  const bound = (name: string) => (typeof created[name] === "string" ? Number(created[name]) : undefined);
  const gt = bound("gt");
  const gte = bound("gte");
  const lt = bound("lt");
  const lte = bound("lte");
  return (item) => {
    const at = Number(item.created);
    return (
      (gt === undefined || at > gt) &&
      (gte === undefined || at >= gte) &&
      (lt === undefined || at < lt) &&
      (lte === undefined || at <= lte)
    );
  };
}

/**
 * `payout=po_...`: Stripe documents this filter "for automatic Stripe payouts only" and answers a
 * manual payout's id with a 400 ("Balance transaction history can only be filtered on automatic
 * transfers, not manual."). For an automatic payout it lists the transactions that payout paid
 * out, the payout's own `payout` transaction included.
 */
function payoutFilter(ctx: RouteContext): ((item: StoredObject) => boolean) | undefined {
  const payoutId = optionalString(ctx.params, "payout");
  if (!payoutId) return undefined;
  const payout = ctx.state.find("payout", payoutId, ctx.account, "payout", "payout");
  if (payout.automatic !== true)
    throw invalidRequest(
      "Balance transaction history can only be filtered on automatic transfers, not manual.",
      undefined,
      "payout",
    );
  return (item) => ctx.state.automaticPayoutOf(item.id) === payoutId;
}

export const balanceRoutes: Route[] = [
  { method: "GET", pattern: "/v1/balance", allowedParams: [], handle: balanceFor },
  {
    method: "GET",
    pattern: "/v1/balance_transactions",
    allowedParams: [...LIST_PARAMS, "type", "source", "payout", "currency", "created"],
    handle: (ctx) => {
      const type = optionalString(ctx.params, "type");
      const source = optionalString(ctx.params, "source");
      const currency = optionalString(ctx.params, "currency")?.toLowerCase();
      const payout = payoutFilter(ctx);
      const created = createdFilter(ctx);
      const filter =
        type || source || currency || payout || created
          ? (item: StoredObject) =>
              (!type || item.type === type) &&
              (!source || item.source === source) &&
              (!currency || item.currency === currency) &&
              (!payout || payout(item)) &&
              (!created || created(item))
          : undefined;
      return listResponse(
        ctx,
        ctx.state.collection(`balance_transaction:${ctx.account}`),
        "/v1/balance_transactions",
        filter,
      );
    },
  },
  {
    method: "GET",
    pattern: "/v1/balance_transactions/:id",
    allowedParams: [],
    handle: (ctx) =>
      ctx.state.find("balance_transaction", pathParam(ctx, "id"), ctx.account, "balance transaction"),
  },
  {
    method: "GET",
    pattern: "/v1/events",
    allowedParams: [...LIST_PARAMS, "created", "type", "types", "delivery_success"],
    handle: (ctx) => {
      const types = optionalStringArray(ctx.params, "types");
      const type = optionalString(ctx.params, "type");
      const created = createdFilter(ctx);
      const typeMatches = (eventType: string): boolean => {
        if (types && !types.includes(eventType)) return false;
        if (!type) return true;
        // Stripe allows one trailing wildcard: `payout.*`.
        return type.endsWith("*") ? eventType.startsWith(type.slice(0, -1)) : eventType === type;
      };
      const filter =
        types || type || created
          ? (item: StoredObject) => typeMatches(String(item.type)) && (!created || created(item))
          : undefined;
      return listResponse(ctx, ctx.state.collection(`event:${ctx.account}`), "/v1/events", filter);
    },
  },
  {
    method: "GET",
    pattern: "/v1/events/:id",
    allowedParams: [],
    handle: (ctx) => ctx.state.find("event", pathParam(ctx, "id"), ctx.account),
  },
];
