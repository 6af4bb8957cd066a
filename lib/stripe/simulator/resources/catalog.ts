import { readFileSync } from "node:fs";
import { invalidRequest, parameterInvalid } from "../errors";
import {
  applyMetadata,
  optionalBoolean,
  optionalInteger,
  optionalObject,
  optionalString,
  requireString,
} from "../form";
import { LIST_PARAMS, listResponse, pathParam, type Route, type RouteContext } from "../router";
import type { SimulatorState } from "../state";
import type { FormObject, StoredObject } from "../types";

// Billing's catalogue: products, recurring prices (licensed or metered on a billing meter) and
// meters. Every simulator starts with the catalogue in catalog.json (fixed ids), so the plan map
// in billing-plans.json resolves on a fresh simulator and `npm start` works with no setup.

type CatalogFile = {
  meters: Array<{ id: string; event_name: string; display_name: string }>;
  products: Array<{ id: string; name: string }>;
  prices: Array<{
    id: string;
    product: string;
    currency: string;
    interval: string;
    usage_type: "licensed" | "metered";
    meter?: string;
    unit_amount: number;
  }>;
};

let catalogFile: CatalogFile | undefined;
function catalog(): CatalogFile {
  catalogFile ??= JSON.parse(
    readFileSync(new URL("../catalog.json", import.meta.url), "utf8"),
  ) as CatalogFile;
  return catalogFile;
}

function buildMeter(
  state: SimulatorState,
  id: string | undefined,
  eventName: string,
  displayName: string,
): StoredObject {
  const meter = state.build("billing.meter", "mtr");
  if (id) meter.id = id;
  Object.assign(meter, {
    customer_mapping: { event_payload_key: "stripe_customer_id", type: "by_id" },
    default_aggregation: { formula: "sum" },
    display_name: displayName,
    event_name: eventName,
    event_time_window: null,
    livemode: false,
    status: "active",
    status_transitions: { deactivated_at: null },
    updated: state.now(),
    value_settings: { event_payload_key: "value" },
  });
  return meter;
}

function buildProduct(state: SimulatorState, id: string | undefined, name: string): StoredObject {
  const product = state.build("product", "prod");
  if (id) product.id = id;
  Object.assign(product, {
    default_price: null,
    description: null,
    images: [],
    marketing_features: [],
    name,
    package_dimensions: null,
    shippable: null,
    type: "service",
    updated: state.now(),
  });
  return product;
}

function buildPrice(
  state: SimulatorState,
  input: {
    id?: string;
    product: string;
    currency: string;
    interval: string;
    usageType: string;
    meter: string | null;
    unitAmount: number;
    nickname?: string | null;
    lookupKey?: string | null;
  },
): StoredObject {
  const price = state.build("price", "price");
  if (input.id) price.id = input.id;
  Object.assign(price, {
    active: true,
    billing_scheme: "per_unit",
    currency: input.currency,
    custom_unit_amount: null,
    lookup_key: input.lookupKey ?? null,
    nickname: input.nickname ?? null,
    product: input.product,
    recurring: {
      interval: input.interval,
      interval_count: 1,
      meter: input.meter,
      usage_type: input.usageType,
      trial_period_days: null,
    },
    tax_behavior: "unspecified",
    tiers_mode: null,
    transform_quantity: null,
    type: "recurring",
    unit_amount: input.unitAmount,
    unit_amount_decimal: String(input.unitAmount),
  });
  return price;
}

/** Adds catalog.json's meters, products and prices that are not there yet (a fresh or a loaded state). */
export function seedCatalog(state: SimulatorState): void {
  const owner = state.platformAccountId;
  const file = catalog();
  for (const m of file.meters) {
    if (state.lookup(m.id)) continue;
    const meter = buildMeter(state, m.id, m.event_name, m.display_name);
    state.store("billing.meter", owner, meter, [`billing.meter:event_name:${m.event_name}`]);
  }
  for (const p of file.products) {
    if (state.lookup(p.id)) continue;
    state.store("product", owner, buildProduct(state, p.id, p.name));
  }
  for (const p of file.prices) {
    if (state.lookup(p.id)) continue;
    state.store(
      "price",
      owner,
      buildPrice(state, {
        id: p.id,
        product: p.product,
        currency: p.currency,
        interval: p.interval,
        usageType: p.usage_type,
        meter: p.meter ?? null,
        unitAmount: p.unit_amount,
      }),
    );
  }
}

/** The active meter of an event name, if any. */
export function meterForEvent(state: SimulatorState, eventName: string): StoredObject | undefined {
  return state
    .collection(`billing.meter:event_name:${eventName}`)
    .all()
    .find((m) => m.status === "active");
}

function createPrice(ctx: RouteContext): StoredObject {
  const { params, state } = ctx;
  const product = state.find("product", requireString(params, "product"), ctx.account, "product", "product");
  const recurring = optionalObject(params, "recurring");
  if (!recurring)
    throw invalidRequest(
      "Payrun's simulator makes recurring prices only: send recurring[interval].",
      undefined,
      "recurring",
    );
  const interval = optionalString(recurring as FormObject, "interval");
  if (!interval || !["day", "week", "month", "year"].includes(interval))
    throw parameterInvalid(
      "recurring[interval]",
      "Invalid recurring[interval]: must be one of day, week, month, or year",
    );
  const usageType = optionalString(recurring as FormObject, "usage_type") ?? "licensed";
  const meterId = optionalString(recurring as FormObject, "meter") ?? null;
  if (usageType === "metered" && !meterId)
    throw invalidRequest(
      "Metered prices must be backed by a meter: send recurring[meter].",
      undefined,
      "recurring[meter]",
    );
  if (meterId) state.find("billing.meter", meterId, ctx.account, "billing.meter", "recurring[meter]");
  const price = buildPrice(state, {
    product: product.id,
    currency: requireString(params, "currency").toLowerCase(),
    interval,
    usageType,
    meter: meterId,
    unitAmount: optionalInteger(params, "unit_amount") ?? 0,
    nickname: optionalString(params, "nickname") ?? null,
    lookupKey: optionalString(params, "lookup_key") ?? null,
  });
  applyMetadata(price, params);
  state.store("price", ctx.account, price);
  state.emit("price.created", price, ctx.account);
  return price;
}

export const catalogRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/products",
    allowedParams: ["name", "description", "metadata", "id", "active"],
    handle: (ctx) => {
      const id = optionalString(ctx.params, "id");
      if (id && ctx.state.lookup(id))
        throw invalidRequest(`Product already exists.`, "resource_already_exists", "id");
      const product = buildProduct(ctx.state, id, requireString(ctx.params, "name"));
      product.description = optionalString(ctx.params, "description") ?? null;
      product.active = optionalBoolean(ctx.params, "active") ?? true;
      applyMetadata(product, ctx.params);
      ctx.state.store("product", ctx.account, product);
      ctx.state.emit("product.created", product, ctx.account);
      return product;
    },
  },
  {
    method: "GET",
    pattern: "/v1/products/:id",
    allowedParams: [],
    handle: (ctx) => ctx.state.find("product", pathParam(ctx, "id"), ctx.account),
  },
  {
    method: "POST",
    pattern: "/v1/prices",
    allowedParams: ["product", "currency", "unit_amount", "recurring", "nickname", "lookup_key", "metadata"],
    handle: createPrice,
  },
  {
    method: "GET",
    pattern: "/v1/prices/:id",
    allowedParams: [],
    handle: (ctx) => ctx.state.find("price", pathParam(ctx, "id"), ctx.account),
  },
  {
    method: "GET",
    pattern: "/v1/prices",
    allowedParams: [...LIST_PARAMS, "product", "active", "type"],
    handle: (ctx) => {
      const product = optionalString(ctx.params, "product");
      return listResponse(
        ctx,
        ctx.state.collection(`price:${ctx.account}`),
        "/v1/prices",
        product ? (p) => p.product === product : undefined,
      );
    },
  },
  {
    method: "POST",
    pattern: "/v1/billing/meters",
    allowedParams: [
      "display_name",
      "event_name",
      "default_aggregation",
      "customer_mapping",
      "value_settings",
      "event_time_window",
    ],
    handle: (ctx) => {
      const eventName = requireString(ctx.params, "event_name");
      if (meterForEvent(ctx.state, eventName))
        throw invalidRequest(
          `An active meter with event_name ${eventName} already exists.`,
          "resource_already_exists",
          "event_name",
        );
      const meter = buildMeter(ctx.state, undefined, eventName, requireString(ctx.params, "display_name"));
      ctx.state.store("billing.meter", ctx.account, meter, [`billing.meter:event_name:${eventName}`]);
      return meter;
    },
  },
  {
    method: "GET",
    pattern: "/v1/billing/meters/:id",
    allowedParams: [],
    handle: (ctx) => ctx.state.find("billing.meter", pathParam(ctx, "id"), ctx.account),
  },
  {
    method: "GET",
    pattern: "/v1/billing/meters",
    allowedParams: [...LIST_PARAMS, "status"],
    handle: (ctx) =>
      listResponse(ctx, ctx.state.collection(`billing.meter:${ctx.account}`), "/v1/billing/meters"),
  },
];
