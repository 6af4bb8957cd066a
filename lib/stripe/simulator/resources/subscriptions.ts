import { invalidRequest, parameterMissing } from "../errors";
import { applyMetadata, optionalBoolean, optionalInteger, optionalString, requireString } from "../form";
import { pathParam, type Route, type RouteContext } from "../router";
import type { SimulatorState } from "../state";
import type { FormObject, FormValue, StoredObject } from "../types";
import { isRecord } from "../types";

// Subscriptions on the platform: created, their prices changed (items replaced), cancelled now or at
// the period's end, each change emitting customer.subscription.* as Stripe does. The simulator makes
// no subscription invoices (docs/STRIPE_SIMULATOR.md): the period is kept, nothing is billed.

function addInterval(seconds: number, interval: string): number {
  const d = new Date(seconds * 1000);
  if (interval === "day") d.setUTCDate(d.getUTCDate() + 1);
  else if (interval === "week") d.setUTCDate(d.getUTCDate() + 7);
  else if (interval === "year") d.setUTCFullYear(d.getUTCFullYear() + 1);
  else d.setUTCMonth(d.getUTCMonth() + 1);
  return Math.floor(d.getTime() / 1000);
}

function itemsParam(params: FormObject): FormObject[] {
  const items = params.items;
  if (items === undefined) return [];
  const list: FormValue[] = Array.isArray(items) ? items : isRecord(items) ? Object.values(items) : [];
  return list.filter((item): item is FormObject => isRecord(item));
}

function buildItem(
  state: SimulatorState,
  subscription: StoredObject,
  price: StoredObject,
  quantity: number | undefined,
): StoredObject {
  const item = state.build("subscription_item", "si");
  const recurring = isRecord(price.recurring) ? price.recurring : {};
  const start = Number(subscription.start_date ?? state.now());
  Object.assign(item, {
    discounts: [],
    price: JSON.parse(JSON.stringify(price)),
    // Metered prices carry no quantity: usage comes from the meter.
    quantity: recurring.usage_type === "metered" ? undefined : (quantity ?? 1),
    subscription: subscription.id,
    tax_rates: [],
    plan: null,
    current_period_start: start,
    current_period_end: addInterval(start, String(recurring.interval ?? "month")),
    billing_thresholds: null,
  });
  if (item.quantity === undefined) delete item.quantity;
  return item;
}

function setItems(subscription: StoredObject, items: StoredObject[]): void {
  subscription.items = {
    object: "list",
    data: items,
    has_more: false,
    total_count: items.length,
    url: `/v1/subscription_items?subscription=${subscription.id}`,
  };
}

function currentItems(subscription: StoredObject): StoredObject[] {
  const items =
    isRecord(subscription.items) && Array.isArray(subscription.items.data) ? subscription.items.data : [];
  return items as StoredObject[];
}

function priceOf(ctx: RouteContext, id: string, param: string, currency: string | undefined): StoredObject {
  const price = ctx.state.find("price", id, ctx.account, "price", param);
  if (price.active !== true)
    throw invalidRequest(
      `The price specified is inactive. This field only accepts active prices.`,
      undefined,
      param,
    );
  if (currency && price.currency !== currency)
    throw invalidRequest(
      `All prices on a subscription must have the same currency (${currency}); ${id} is ${String(price.currency)}.`,
      undefined,
      param,
    );
  return price;
}

function createSubscription(ctx: RouteContext): StoredObject {
  const { params, state } = ctx;
  const customer = state.find(
    "customer",
    requireString(params, "customer"),
    ctx.account,
    "customer",
    "customer",
  );
  const items = itemsParam(params);
  if (items.length === 0) throw parameterMissing("items");
  const collectionMethod = optionalString(params, "collection_method") ?? "charge_automatically";
  const daysUntilDue = optionalInteger(params, "days_until_due");
  if (collectionMethod === "send_invoice" && daysUntilDue === undefined)
    throw parameterMissing("days_until_due");
  const subscription = state.build("subscription", "sub");
  const now = state.now();
  const prices = items.map((item, i) => {
    const price = optionalString(item, "price");
    if (!price) throw parameterMissing(`items[${i}][price]`);
    return priceOf(ctx, price, `items[${i}][price]`, undefined);
  });
  const currency = String(prices[0]!.currency);
  for (const [i, price] of prices.entries())
    if (price.currency !== currency)
      throw invalidRequest(
        "All prices on a subscription must have the same currency.",
        undefined,
        `items[${i}][price]`,
      );
  Object.assign(subscription, {
    application: null,
    application_fee_percent: null,
    billing_cycle_anchor: now,
    billing_cycle_anchor_config: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, reason: null },
    collection_method: collectionMethod,
    currency,
    customer: customer.id,
    days_until_due: collectionMethod === "send_invoice" ? daysUntilDue : null,
    default_payment_method: null,
    default_source: null,
    description: optionalString(params, "description") ?? null,
    discounts: [],
    ended_at: null,
    latest_invoice: null,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: now,
    // An invoice sent to the client (send_invoice) or a card on file: active from the start here.
    status: "active",
    test_clock: null,
    transfer_data: null,
    trial_end: null,
    trial_start: null,
  });
  setItems(
    subscription,
    prices.map((price, i) => buildItem(state, subscription, price, optionalInteger(items[i]!, "quantity"))),
  );
  applyMetadata(subscription, params);
  state.store("subscription", ctx.account, subscription, [`subscription:customer:${customer.id}`]);
  state.emit("customer.subscription.created", subscription, ctx.account);
  return subscription;
}

function updateSubscription(ctx: RouteContext): StoredObject {
  const { params, state } = ctx;
  const subscription = state.find("subscription", pathParam(ctx, "id"), ctx.account);
  if (subscription.status === "canceled")
    throw invalidRequest(
      "A canceled subscription can only update its cancellation_details and metadata.",
      undefined,
    );
  const previous: Record<string, unknown> = {};
  const items = itemsParam(params);
  if (items.length > 0) {
    let next = [...currentItems(subscription)];
    previous.items = JSON.parse(JSON.stringify(subscription.items));
    for (const [i, item] of items.entries()) {
      const id = optionalString(item, "id");
      const deleted = optionalString(item, "deleted") === "true";
      const price = optionalString(item, "price");
      if (id) {
        const index = next.findIndex((existing) => existing.id === id);
        if (index < 0)
          throw invalidRequest(
            `No such subscription item: '${id}'`,
            "resource_missing",
            `items[${i}][id]`,
            404,
          );
        if (deleted) next.splice(index, 1);
        else if (price)
          next[index] = {
            ...buildItem(
              state,
              subscription,
              priceOf(ctx, price, `items[${i}][price]`, String(subscription.currency)),
              optionalInteger(item, "quantity"),
            ),
            id,
          };
      } else if (price) {
        next.push(
          buildItem(
            state,
            subscription,
            priceOf(ctx, price, `items[${i}][price]`, String(subscription.currency)),
            optionalInteger(item, "quantity"),
          ),
        );
      } else throw parameterMissing(`items[${i}][price]`);
    }
    if (next.length === 0)
      throw invalidRequest("A subscription must keep at least one item.", undefined, "items");
    next = next.map((item) => item);
    setItems(subscription, next);
  }
  const cancelAtPeriodEnd = optionalBoolean(params, "cancel_at_period_end");
  if (cancelAtPeriodEnd !== undefined && cancelAtPeriodEnd !== subscription.cancel_at_period_end) {
    previous.cancel_at_period_end = subscription.cancel_at_period_end;
    subscription.cancel_at_period_end = cancelAtPeriodEnd;
    const end = Number(currentItems(subscription)[0]?.current_period_end ?? state.now());
    subscription.cancel_at = cancelAtPeriodEnd ? end : null;
    subscription.canceled_at = cancelAtPeriodEnd ? state.now() : null;
  }
  if (params.metadata !== undefined) {
    previous.metadata = subscription.metadata;
    applyMetadata(subscription, params);
  }
  state.emit("customer.subscription.updated", subscription, ctx.account, previous);
  return subscription;
}

function cancelSubscription(ctx: RouteContext): StoredObject {
  const { state } = ctx;
  const subscription = state.find("subscription", pathParam(ctx, "id"), ctx.account);
  if (subscription.status === "canceled")
    throw invalidRequest(
      `No such subscription: '${subscription.id}' (it is already canceled)`,
      "resource_missing",
      "id",
      404,
    );
  const now = state.now();
  Object.assign(subscription, {
    status: "canceled",
    canceled_at: now,
    ended_at: now,
    cancel_at_period_end: false,
    cancellation_details: {
      comment:
        optionalString(
          isRecord(ctx.params.cancellation_details) ? (ctx.params.cancellation_details as FormObject) : {},
          "comment",
        ) ?? null,
      feedback: null,
      reason: "cancellation_requested",
    },
  });
  state.emit("customer.subscription.deleted", subscription, ctx.account);
  return subscription;
}

export const subscriptionRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/subscriptions",
    allowedParams: [
      "customer",
      "items",
      "collection_method",
      "days_until_due",
      "metadata",
      "description",
      "payment_behavior",
      "proration_behavior",
    ],
    handle: createSubscription,
  },
  {
    method: "GET",
    pattern: "/v1/subscriptions/:id",
    allowedParams: [],
    handle: (ctx) => ctx.state.find("subscription", pathParam(ctx, "id"), ctx.account),
  },
  {
    method: "POST",
    pattern: "/v1/subscriptions/:id",
    allowedParams: ["items", "metadata", "cancel_at_period_end", "proration_behavior", "payment_behavior"],
    handle: updateSubscription,
  },
  {
    method: "DELETE",
    pattern: "/v1/subscriptions/:id",
    allowedParams: ["cancellation_details", "invoice_now", "prorate"],
    handle: cancelSubscription,
  },
];
