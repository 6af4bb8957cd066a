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
export const isoDate = z.iso.date("must be a date YYYY-MM-DD");
export const isoDateTime = z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" });

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
