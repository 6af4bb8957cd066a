import { z } from "zod";

// Shared by the API routes and the dashboard forms: no server imports in lib/schemas/.

export const uuidSchema = z.uuid("must be a UUID");

/**
 * Any 8-4-4-4-12 hex string, the shape Postgres's uuid type accepts (no RFC version/variant check,
 * unlike uuidSchema): guards a value before it is compared with a uuid column.
 */
const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => UUID_TEXT.test(value);
export const idParamsSchema = z.object({ id: uuidSchema });

export const currencyCode = z
  .string()
  .regex(/^[a-zA-Z]{3}$/, "must be a three-letter ISO 4217 code")
  .transform((c) => c.toLowerCase());
export const wholeCents = z
  .number()
  .int("must be whole cents")
  .min(0, "must not be negative")
  .max(Number.MAX_SAFE_INTEGER);
export const positiveCents = z
  .number()
  .int("must be whole cents")
  .min(1, "must be positive")
  .max(Number.MAX_SAFE_INTEGER);
/**
 * Dates Payrun stores or computes with: 1900 to 2999. Wide for any real placement or filter, and far
 * inside what Postgres and JS dates hold even after adding a ten-year guarantee (year 0000 and
 * 9999-12-31 + days are errors in Postgres: a 500 after validation passed).
 */
export const DATE_RANGE = { first: "1900-01-01", last: "2999-12-31" } as const;
const inDateRange = (isoText: string) => {
  const year = Number(isoText.slice(0, 4));
  return year >= 1900 && year <= 2999;
};
const dateRangeMessage = `must be between ${DATE_RANGE.first} and ${DATE_RANGE.last}`;

export const isoDate = z.iso.date("must be a date YYYY-MM-DD").refine(inDateRange, dateRangeMessage);
export const isoDateTime = z.iso
  .datetime({ offset: true, message: "must be an ISO 8601 date-time" })
  .refine(inDateRange, dateRangeMessage);

/**
 * Why Postgres could not store this text, or null: a NUL character (text and jsonb refuse it) or a
 * lone UTF-16 surrogate (no UTF-8 form; jsonb refuses its escape). Either was a 500 after
 * validation passed.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export function unstorableText(text: string): string | null {
  if (text.includes("\u0000")) return "must not contain a NUL character";
  if (LONE_SURROGATE.test(text)) return "must not contain an unpaired UTF-16 surrogate";
  return null;
}

/** Every string anywhere in `value` (keys too) that Postgres could not store, with its path. */
export function findUnstorableText(value: unknown, path: (string | number)[] = []): { path: (string | number)[]; message: string }[] {
  if (typeof value === "string") {
    const message = unstorableText(value);
    return message ? [{ path, message }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => findUnstorableText(item, [...path, i]));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([key, item]) => {
      const keyMessage = unstorableText(key);
      return [...(keyMessage ? [{ path: [...path, key], message: `name ${keyMessage}` }] : []), ...findUnstorableText(item, [...path, key])];
    });
  }
  return [];
}

/** A copy of `value` with every unstorable character (NUL, lone surrogate) replaced by U+FFFD. */
export function withStorableText<T>(value: T): T {
  const clean = (text: string) => text.replaceAll("\u0000", "\uFFFD").replace(new RegExp(LONE_SURROGATE, "g"), "\uFFFD");
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return clean(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, item]) => [clean(k), walk(item)]));
    return v;
  };
  return walk(value) as T;
}

/**
 * The one refinement for text at every edge (API bodies, queries, path parameters, server-action
 * forms): any string Postgres could not store is refused, naming its field, before `schema` runs.
 */
export function storable<S extends z.ZodType>(schema: S) {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      for (const { path, message } of findUnstorableText(value)) ctx.addIssue({ code: "custom", path, message });
    })
    .pipe(schema);
}

/**
 * The caller's `Idempotency-Key` header, as Stripe takes it: printable ASCII, at most 255
 * characters. The same key with the same request returns the first answer; with another, a 409.
 */
export const idempotencyKeyHeader = z
  .string({ error: "send an Idempotency-Key header" })
  .regex(/^[\x21-\x7E]{8,255}$/, "Idempotency-Key must be 8 to 255 printable ASCII characters");

/** A timestamp in a response: a Date from the database or an ISO string from JSON, out as ISO. */
export const timestampOut = z.preprocess((v) => (v instanceof Date ? v.toISOString() : v), z.string());
export const nullableTimestampOut = z.preprocess(
  (v) => (v instanceof Date ? v.toISOString() : v),
  z.string().nullable(),
);
/** bigint columns: postgres.js may hand back strings; responses always carry numbers. */
export const centsOut = z.preprocess((v) => (typeof v === "string" ? Number(v) : v), z.number().int());

// Keyset pagination (db/paging.ts): newest first. The cursor is opaque to clients.
export const paginationQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
export type Pagination = z.infer<typeof paginationQuery>;

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable() });
