import { z } from "zod";
import {
  centsOut,
  currencyCode,
  isoDate,
  nullableTimestampOut,
  paginationQuery,
  positiveCents,
  timestampOut,
  uuidSchema,
  wholeCents,
} from "./common";

export const placementStatusValues = ["active", "guarantee_completed", "cancelled", "failed"] as const;

const shareWithinFee = (v: { feeCents?: number; payeeShareCents?: number }) =>
  v.feeCents === undefined || v.payeeShareCents === undefined || v.payeeShareCents <= v.feeCents;

export const createPlacementBody = z
  .strictObject({
    payeeId: uuidSchema,
    clientStripeCustomerId: z.string().regex(/^cus_[A-Za-z0-9]+$/, "must be a Stripe customer id (cus_...)"),
    clientName: z.string().trim().min(1).max(200).optional(),
    candidateName: z.string().trim().min(1).max(200).optional(),
    feeCents: positiveCents,
    payeeShareCents: wholeCents,
    currency: currencyCode,
    startDate: isoDate,
    guaranteeDays: z.number().int().min(0).max(3650),
  })
  .refine(shareWithinFee, { message: "payeeShareCents must not exceed feeCents", path: ["payeeShareCents"] });
export type CreatePlacementInput = z.infer<typeof createPlacementBody>;

// Terms may change only while the placement is active (before its guarantee completes).
export const updatePlacementBody = z
  .strictObject({
    clientName: z.string().trim().min(1).max(200).nullable(),
    candidateName: z.string().trim().min(1).max(200).nullable(),
    feeCents: positiveCents,
    payeeShareCents: wholeCents,
    startDate: isoDate,
    guaranteeDays: z.number().int().min(0).max(3650),
  })
  .partial()
  .refine((v) => Object.keys(v).length > 0, "nothing to update")
  .refine(shareWithinFee, { message: "payeeShareCents must not exceed feeCents", path: ["payeeShareCents"] });
export type UpdatePlacementInput = z.infer<typeof updatePlacementBody>;

export const cancelPlacementBody = z.strictObject({
  // cancelled: called off; failed: the hire fell through during the guarantee
  status: z.enum(["cancelled", "failed"]).default("cancelled"),
  reason: z.string().trim().min(1, "say why").max(500),
});
export type CancelPlacementInput = z.infer<typeof cancelPlacementBody>;

export const listPlacementsQuery = paginationQuery.extend({
  payeeId: uuidSchema.optional(),
  status: z.enum(placementStatusValues).optional(),
});

export const placementResponse = z.object({
  id: z.string(),
  payeeId: z.string(),
  clientStripeCustomerId: z.string(),
  clientName: z.string().nullable(),
  candidateName: z.string().nullable(),
  feeCents: centsOut,
  payeeShareCents: centsOut,
  currency: z.string(),
  startDate: z.string(),
  guaranteeDays: z.number().int(),
  guaranteeExpiresAt: nullableTimestampOut,
  status: z.enum(placementStatusValues),
  statusChangedAt: nullableTimestampOut,
  cancelReason: z.string().nullable(),
  createdAt: timestampOut,
  updatedAt: timestampOut,
});
export type PlacementResponse = z.infer<typeof placementResponse>;
