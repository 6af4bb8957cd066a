/** A Stripe API object as the simulator stores it: fixture-shaped JSON, mutated in place. */
export type StripeObject = Record<string, unknown>;
/** A stored object that has an id (everything except balances and links). */
export type StoredObject = StripeObject & { id: string };

/** A decoded form or query body: Stripe's nested-bracket syntax gives strings, arrays and objects. */
export type FormValue = string | FormValue[] | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

export type PayoutOutcome = "paid" | "failed" | "canceled";

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
