import { parameterInvalid, parameterMissing } from "./errors";
import type { FormObject, FormValue } from "./types";

// Stripe's request encoding: application/x-www-form-urlencoded with nested brackets,
// e.g. `settings[payouts][schedule][interval]=manual&expand[0]=latest_charge&expand[]=x`.

function decode(component: string): string {
  return decodeURIComponent(component.replace(/\+/g, " "));
}

function splitKey(rawKey: string): string[] {
  const open = rawKey.indexOf("[");
  if (open <= 0) return [rawKey];
  const path = [rawKey.slice(0, open)];
  const bracketed = /\[([^\]]*)\]/g;
  for (let match = bracketed.exec(rawKey); match; match = bracketed.exec(rawKey)) path.push(match[1] ?? "");
  return path;
}

function isIndex(segment: string): boolean {
  return segment === "" || /^\d+$/.test(segment);
}

function assign(container: FormObject | FormValue[], segments: string[], value: string): void {
  const [head, ...rest] = segments;
  if (head === undefined) return;
  if (Array.isArray(container)) {
    const index = head === "" ? container.length : Number(head);
    if (rest.length === 0) {
      container[index] = value;
      return;
    }
    let child = container[index];
    if (child === undefined || typeof child === "string") {
      child = isIndex(rest[0] ?? "") ? [] : {};
      container[index] = child;
    }
    assign(child, rest, value);
    return;
  }
  if (rest.length === 0) {
    container[head] = value;
    return;
  }
  let child = container[head];
  if (child === undefined || typeof child === "string") {
    child = isIndex(rest[0] ?? "") ? [] : {};
    container[head] = child;
  }
  assign(child, rest, value);
}

/** Decodes a form-encoded body or query string into nested objects and arrays of strings. */
export function parseStripeForm(encoded: string): FormObject {
  const result: FormObject = {};
  if (!encoded) return result;
  for (const pair of encoded.split("&")) {
    if (!pair) continue;
    const eq = pair.indexOf("=");
    const rawKey = decode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? "" : decode(pair.slice(eq + 1));
    assign(result, splitKey(rawKey), value);
  }
  // Sparse arrays (expand[3] alone) must not carry holes into handlers.
  compactArrays(result);
  return result;
}

function compactArrays(node: FormValue): void {
  if (typeof node === "string") return;
  if (Array.isArray(node)) {
    for (let i = node.length - 1; i >= 0; i--) if (node[i] === undefined) node.splice(i, 1);
    for (const child of node) compactArrays(child);
    return;
  }
  for (const child of Object.values(node)) compactArrays(child);
}

// Typed readers for handler parameters. They throw Stripe's own validation errors.

export function optionalString(params: FormObject, name: string): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw parameterInvalid(name, `Invalid string: ${name}`);
  return value;
}

export function requireString(params: FormObject, name: string): string {
  const value = optionalString(params, name);
  if (value === undefined || value === "") throw parameterMissing(name);
  return value;
}

export function optionalInteger(params: FormObject, name: string): number | undefined {
  const value = optionalString(params, name);
  if (value === undefined || value === "") return undefined;
  if (!/^-?\d+$/.test(value))
    throw parameterInvalid(name, `Invalid integer: ${value}`, "parameter_invalid_integer");
  return Number(value);
}

export function requireInteger(params: FormObject, name: string): number {
  const value = optionalInteger(params, name);
  if (value === undefined) throw parameterMissing(name);
  return value;
}

export function requirePositiveAmount(params: FormObject, name = "amount"): number {
  const amount = requireInteger(params, name);
  if (amount <= 0)
    throw parameterInvalid(
      name,
      "This value must be greater than or equal to 1.",
      "parameter_invalid_integer",
    );
  return amount;
}

export function optionalBoolean(params: FormObject, name: string): boolean | undefined {
  const value = optionalString(params, name);
  if (value === undefined || value === "") return undefined;
  if (value !== "true" && value !== "false") throw parameterInvalid(name, `Invalid boolean: ${value}`);
  return value === "true";
}

export function optionalObject(params: FormObject, name: string): FormObject | undefined {
  const value = params[name];
  if (value === undefined || value === "") return undefined;
  if (typeof value === "string" || Array.isArray(value))
    throw parameterInvalid(name, `Invalid object: ${name}`);
  return value;
}

export function optionalStringArray(params: FormObject, name: string): string[] | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value === "string") return [value];
  if (!Array.isArray(value)) throw parameterInvalid(name, `Invalid array: ${name}`);
  return value.filter((item): item is string => typeof item === "string");
}

/** Metadata as Stripe treats it on create/update: strings only, "" unsets a key. */
export function applyMetadata(target: Record<string, unknown>, params: FormObject, name = "metadata"): void {
  const value = params[name];
  if (value === undefined) return;
  const current: Record<string, string> = {};
  const existing = target[name];
  if (typeof existing === "object" && existing !== null && !Array.isArray(existing)) {
    for (const [key, item] of Object.entries(existing)) if (typeof item === "string") current[key] = item;
  }
  if (value === "") {
    target[name] = {};
    return;
  }
  if (typeof value === "string" || Array.isArray(value))
    throw parameterInvalid(name, "Invalid object: metadata");
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== "string")
      throw parameterInvalid(`${name}[${key}]`, "Metadata values must be strings");
    if (item === "") delete current[key];
    else current[key] = item;
  }
  target[name] = current;
}

/** A stable rendering of the parameters, for idempotency comparison (order-insensitive). */
export function fingerprintForm(encoded: string): string {
  return encoded.split("&").filter(Boolean).sort().join("&");
}
