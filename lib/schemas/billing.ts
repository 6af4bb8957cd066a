import { z } from "zod";
import {
  isoDate,
  isoDateTime,
  nullableTimestampOut,
  paginationQuery,
  timestampOut,
  uuidSchema,
} from "./common";

// Billing: the plan map read from configuration (lib/env.ts validates it at start), and the bodies,
// queries and answers of /api/v1/clients and /api/v1/usage. No server imports here.

/** A plan's key (starter, business, enterprise, or any other a deployment defines). */
export const planKey = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,49}$/, "must be lower case letters, digits, - or _ (at most 50)");
/** A Stripe meter's event_name (Stripe allows 100 characters). */
export const meterEventName = z
  .string()
  .regex(
    /^[a-zA-Z][a-zA-Z0-9_.-]{0,99}$/,
    "must be a meter event name: letters, digits, _ . - (at most 100)",
  );
const priceId = z.string().regex(/^price_[A-Za-z0-9_]+$/, "must be a Stripe price id (price_...)");

export const planConfig = z.strictObject({
  /** Shown on the ops page; defaults to the key. */
  name: z.string().min(1).max(100).optional(),
  currency: z
    .string()
    .regex(/^[a-z]{3}$/, "must be a lower-case three-letter ISO 4217 code")
    .default("usd"),
  interval: z.enum(["day", "week", "month", "year"]).default("month"),
  /** The licensed (flat, per seat) recurring price of the subscription. */
  basePrice: priceId,
  /** Meter event name -> the metered price billed on that meter's usage. */
  meters: z.record(meterEventName, priceId).default({}),
});
export type PlanConfig = z.infer<typeof planConfig>;

export const planMapSchema = z
  .record(planKey, planConfig)
  .refine((plans) => Object.keys(plans).length > 0, "must define at least one plan");
export type PlanMap = z.infer<typeof planMapSchema>;

// /api/v1/clients

export const createClientBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  email: z.email().max(320),
  plan: planKey,
});
export type CreateClientInput = z.infer<typeof createClientBody>;

export const changePlanBody = z.strictObject({ plan: planKey });
export const cancelClientBody = z.strictObject({
  reason: z.string().trim().min(1).max(500),
  /** Cancel at the end of the paid period instead of now. */
  atPeriodEnd: z.boolean().default(false),
});

export const listClientsQuery = paginationQuery.extend({
  status: z.enum(["creating", "active", "canceled"]).optional(),
  plan: planKey.optional(),
});

/** An Idempotency-Key header: what Stripe accepts (1..255 characters). */
export const idempotencyKeyHeader = z
  .string({ message: "send an Idempotency-Key header" })
  .trim()
  .min(1, "send an Idempotency-Key header")
  .max(255, "Idempotency-Key must be at most 255 characters");

export const clientResponse = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  plan: z.string(),
  status: z.string(),
  stripeCustomerId: z.string().nullable(),
  stripeSubscriptionId: z.string().nullable(),
  subscriptionStatus: z.string().nullable(),
  currentPeriodEnd: nullableTimestampOut,
  cancelAtPeriodEnd: z.boolean(),
  canceledAt: nullableTimestampOut,
  latestInvoiceId: z.string().nullable(),
  latestInvoiceStatus: z.string().nullable(),
  lastError: z.string().nullable(),
  createdAt: timestampOut,
  updatedAt: timestampOut,
});

// /api/v1/usage

export const recordUsageBody = z.strictObject({
  clientId: uuidSchema,
  meter: meterEventName,
  quantity: z.number().int("must be a whole number").min(1, "must be at least 1").max(2_147_483_647),
  /** When the usage happened; default now. Stripe takes meter events up to 35 days old. */
  occurredAt: isoDateTime.optional(),
});
export type RecordUsageInput = z.infer<typeof recordUsageBody>;

export const listUsageQuery = paginationQuery.extend({
  clientId: uuidSchema.optional(),
  meter: meterEventName.optional(),
  state: z.enum(["pending", "exported", "failed"]).optional(),
});

export const usageResponse = z.object({
  id: z.string(),
  clientId: z.string().nullable(),
  stripeCustomerId: z.string(),
  meter: z.string(),
  quantity: z.number().int(),
  occurredAt: timestampOut,
  identifier: z.string(),
  source: z.string(),
  exportBatchId: z.string().nullable(),
  exportedAt: nullableTimestampOut,
  exportFailedAt: nullableTimestampOut,
  exportError: z.string().nullable(),
  createdAt: timestampOut,
});

/** The export's date range, [start, end), as the CLI takes it. */
export const exportRange = z
  .object({ start: isoDate, end: isoDate })
  .refine((r) => r.start < r.end, { message: "--start must be before --end", path: ["end"] });
