import { parameterInvalid } from "./errors";
import { optionalInteger, optionalString } from "./form";
import type { OrderedCollection } from "./collection";
import type { SimulatorState } from "./state";
import type { FormObject, StoredObject } from "./types";

export type HttpMethod = "GET" | "POST" | "DELETE";

export interface RouteContext {
  state: SimulatorState;
  params: FormObject;
  pathParams: Record<string, string>;
  /** The account the request acts on: the Stripe-Account header, else the platform. */
  account: string;
  /** True when the Stripe-Account header named a connected account. */
  connected: boolean;
  path: string;
}

export interface RouteResult {
  status: number;
  body: unknown;
}

export interface Route {
  method: HttpMethod;
  /** e.g. "/v1/transfers/:id/reversals"; also the endpoint name used by fault injection. */
  pattern: string;
  /** Top-level parameters Stripe accepts here (plus `expand`); anything else is parameter_unknown. */
  allowedParams: readonly string[];
  handle(ctx: RouteContext): unknown;
}

interface CompiledRoute {
  route: Route;
  segments: string[];
  endpoint: string;
}

export interface RouteMatch {
  route: Route;
  endpoint: string;
  pathParams: Record<string, string>;
}

/** Matches method + path against the route table; routes are grouped by method and segment count. */
export class Router {
  private readonly byShape = new Map<string, CompiledRoute[]>();

  constructor(routes: Route[]) {
    for (const route of routes) {
      const segments = route.pattern.split("/").filter(Boolean);
      const key = `${route.method} ${segments.length}`;
      const bucket = this.byShape.get(key) ?? [];
      bucket.push({ route, segments, endpoint: `${route.method} ${route.pattern}` });
      this.byShape.set(key, bucket);
    }
  }

  match(method: string, path: string): RouteMatch | undefined {
    const parts = path.split("/").filter(Boolean);
    const bucket = this.byShape.get(`${method} ${parts.length}`);
    if (!bucket) return undefined;
    // Literal segments win over parameters (GET /v1/accounts/:id vs a literal sibling).
    let best: { compiled: CompiledRoute; literals: number; params: Record<string, string> } | undefined;
    for (const compiled of bucket) {
      const params: Record<string, string> = {};
      let literals = 0;
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const expected = compiled.segments[i] ?? "";
        const actual = parts[i] ?? "";
        if (expected.startsWith(":")) params[expected.slice(1)] = decodeURIComponent(actual);
        else if (expected === actual) literals++;
        else {
          ok = false;
          break;
        }
      }
      if (ok && (!best || literals > best.literals)) best = { compiled, literals, params };
    }
    return best && { route: best.compiled.route, endpoint: best.compiled.endpoint, pathParams: best.params };
  }
}

export function pathParam(ctx: RouteContext, name: string): string {
  const value = ctx.pathParams[name];
  if (value === undefined) throw new Error(`route has no :${name}`);
  return value;
}

export const LIST_PARAMS = ["limit", "starting_after", "ending_before"] as const;

/** Stripe's list envelope over a collection, honouring limit/starting_after/ending_before. */
export function listResponse(
  ctx: RouteContext,
  collection: OrderedCollection,
  url: string,
  filter?: (item: StoredObject) => boolean,
): Record<string, unknown> {
  const limit = optionalInteger(ctx.params, "limit") ?? 10;
  if (limit < 1 || limit > 100)
    throw parameterInvalid("limit", "This value must be between 1 and 100.", "parameter_invalid_integer");
  const page = collection.page({
    limit,
    startingAfter: optionalString(ctx.params, "starting_after") || undefined,
    endingBefore: optionalString(ctx.params, "ending_before") || undefined,
    filter,
  });
  return { object: "list", data: page.data, has_more: page.hasMore, url };
}
