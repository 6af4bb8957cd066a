import { z } from "zod";

// Money is integer minor units (cents) plus an ISO currency. Amounts are JS numbers restricted to
// safe integers (|n| < 2^53, ~90 trillion dollars), so arithmetic on them is exact.

export type Money = { amountCents: number; currency: string };

export const currencySchema = z
  .string()
  .regex(/^[a-zA-Z]{3}$/, "must be a three-letter ISO 4217 code")
  .transform((c) => c.toLowerCase());

export const centsSchema = z.number().int("must be whole cents").refine(Number.isSafeInteger, "is too large");
export const positiveCentsSchema = centsSchema.refine((n) => n > 0, "must be positive");

export const moneySchema = z.object({ amountCents: centsSchema, currency: currencySchema });

/** Cents from a database value: postgres.js returns int8/numeric as strings, PGlite as numbers. */
export function toCents(value: unknown): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === "bigint" ? Number(value) : typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n)) {
    throw new RangeError(`not a whole number of cents: ${String(value)}`);
  }
  return n;
}

export function assertCents(n: number, what = "amount"): number {
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what} must be a whole number of cents, got ${n}`);
  return n;
}

/**
 * `percent` of `amountCents`, rounded half away from zero to a whole cent, computed in integers
 * (basis points) so no float ever touches an amount.
 */
export function percentOf(amountCents: number, percent: number): number {
  assertCents(amountCents);
  const basisPoints = Math.round(percent * 100);
  if (!Number.isSafeInteger(amountCents * basisPoints)) throw new RangeError("amount too large for percentage");
  const scaled = amountCents * basisPoints;
  const sign = scaled < 0 ? -1 : 1;
  const abs = Math.abs(scaled);
  return sign * Math.floor((abs + 5000) / 10000);
}

const zeroDecimal = new Set([
  "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
]);

/**
 * Cents as a decimal string in the currency's major unit, built from integers (no float): 123456 usd
 * is "1234.56", -5 usd "-0.05", 4500 jpy "4500" (zero-decimal currencies have no minor unit). For
 * files other programs read (the accounting journal): no grouping, no symbol.
 */
export function toDecimalString(amountCents: number, currency: string): string {
  assertCents(amountCents);
  const sign = amountCents < 0 ? "-" : "";
  const abs = Math.abs(amountCents);
  if (zeroDecimal.has(currency.toLowerCase())) return `${sign}${abs}`;
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/**
 * "$1,234.50" for display. Zero-decimal currencies (JPY, ...) have no minor unit. The decimal string
 * is built from integers and handed to Intl as a string, so no amount passes through a float.
 */
export function formatMoney(amountCents: number, currency: string, locale = "en-US"): string {
  const code = currency.toUpperCase();
  const negative = amountCents < 0;
  const decimal = toDecimalString(Math.abs(amountCents), currency);
  try {
    // Intl accepts a decimal string exactly (no conversion through a float).
    const text = new Intl.NumberFormat(locale, { style: "currency", currency: code }).format(
      decimal as unknown as number,
    );
    return negative ? `-${text}` : text;
  } catch {
    return `${negative ? "-" : ""}${decimal} ${code}`;
  }
}
