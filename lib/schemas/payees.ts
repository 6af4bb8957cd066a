import { z } from "zod";
import {
  centsOut,
  currencyCode,
  nullableTimestampOut,
  paginationQuery,
  timestampOut,
  uuidSchema,
} from "./common";

export const createPayeeBody = z.strictObject({
  displayName: z.string().trim().min(1).max(200),
  email: z.email(),
  externalRef: z.string().trim().min(1).max(200).optional(),
  userId: uuidSchema.optional(),
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/, "must be a two-letter country code")
    .transform((c) => c.toUpperCase())
    .default("US"),
  defaultCurrency: currencyCode.default("usd"),
});
export type CreatePayeeInput = z.infer<typeof createPayeeBody>;

export const updatePayeeBody = z
  .strictObject({
    displayName: z.string().trim().min(1).max(200),
    email: z.email(),
    externalRef: z.string().trim().min(1).max(200).nullable(),
    userId: uuidSchema.nullable(),
  })
  .partial()
  .refine((v) => Object.keys(v).length > 0, "nothing to update");
export type UpdatePayeeInput = z.infer<typeof updatePayeeBody>;

export const listPayeesQuery = paginationQuery.extend({ q: z.string().trim().max(200).optional() });

export const payeeResponse = z.object({
  id: z.string(),
  externalRef: z.string().nullable(),
  displayName: z.string(),
  email: z.string(),
  userId: z.string().nullable(),
  country: z.string(),
  defaultCurrency: z.string(),
  createdAt: timestampOut,
  updatedAt: timestampOut,
});
export type PayeeResponse = z.infer<typeof payeeResponse>;

export const payoutSettingsBody = z
  .strictObject({
    payoutsEnabled: z.boolean(),
    betaRollout: z.boolean(),
    minimumPayoutCents: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable(),
  })
  .partial()
  .refine((v) => Object.keys(v).length > 0, "nothing to update");
export type PayoutSettingsInput = z.infer<typeof payoutSettingsBody>;

export const payoutSettingsResponse = z.object({
  payeeId: z.string(),
  payoutsEnabled: z.boolean(),
  betaRollout: z.boolean(),
  minimumPayoutCents: centsOut.nullable(),
  updatedAt: nullableTimestampOut,
});

// POST /api/v1/payees/:id/connected-account takes no fields: the payee's email and country are used.
export const createConnectedAccountBody = z.strictObject({});

export const connectedAccountResponse = z.object({
  id: z.string(),
  payeeId: z.string(),
  stripeAccountId: z.string(),
  type: z.string(),
  country: z.string(),
  chargesEnabled: z.boolean(),
  payoutsEnabled: z.boolean(),
  detailsSubmitted: z.boolean(),
  requirementsCurrentlyDue: z.array(z.string()),
  disabledReason: z.string().nullable(),
  createdAt: timestampOut,
  updatedAt: timestampOut,
});
