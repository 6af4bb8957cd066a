import { readFileSync } from "node:fs";
import type { StripeObject } from "./types";
import { isRecord } from "./types";

// Stripe's published example objects (stripe/openapi fixtures3.json). Every object the simulator
// returns starts as a deep copy of the example of the same resource, so it carries every field
// Stripe's own objects carry; handlers then overwrite the fields that matter.
let resources: Record<string, unknown> | undefined;
/** Each example serialised once: parsing a cached string is the cheapest deep copy on the request path. */
const serialized = new Map<string, string>();

function loadResources(): Record<string, unknown> {
  if (!resources) {
    const raw: unknown = JSON.parse(readFileSync(new URL("./fixtures3.json", import.meta.url), "utf8"));
    if (!isRecord(raw) || !isRecord(raw.resources)) throw new Error("fixtures3.json has no resources");
    resources = raw.resources;
  }
  return resources;
}

/** A fresh deep copy of Stripe's example object for `resourceName` (e.g. "payout", "billing.meter_event"). */
export function fixtureTemplate(resourceName: string): StripeObject {
  let json = serialized.get(resourceName);
  if (json === undefined) {
    const example = loadResources()[resourceName];
    if (!isRecord(example)) throw new Error(`fixtures3.json has no resource ${resourceName}`);
    json = JSON.stringify(example);
    serialized.set(resourceName, json);
  }
  return JSON.parse(json) as StripeObject;
}

/** The top-level keys of Stripe's example object, for shape tests. */
export function fixtureKeys(resourceName: string): string[] {
  return Object.keys(fixtureTemplate(resourceName));
}
