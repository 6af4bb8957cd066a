import { z } from "zod";
import {
  centsOut,
  currencyCode,
  isoDateTime,
  nullableTimestampOut,
  paginationQuery,
  positiveCents,
  timestampOut,
  uuidSchema,
} from "./common";

export const escrowHoldKindValues = ["placement_escrow", "rolling_reserve", "dispute", "manual"] as const;
export const escrowHoldStatusValues = ["active", "released", "cancelled"] as const;

export const createEscrowHoldBody = z
  .strictObject({
    payeeId: uuidSchema.optional(),
    placementId: uuidSchema.optional(),
    // rolling_reserve and dispute holds are made by the payout run and the webhooks, not by hand
    kind: z.enum(["placement_escrow", "manual"]).optional(),
    amountCents: positiveCents,
    currency: currencyCode.optional(),
    reason: z.string().trim().min(1, "say why").max(500),
    releaseAt: isoDateTime.nullable().optional(),
  })
  .refine((v) => v.payeeId || v.placementId, {
    message: "payeeId or placementId is required",
    path: ["payeeId"],
  });
export type CreateEscrowHoldInput = z.infer<typeof createEscrowHoldBody>;

export const endEscrowHoldBody = z.strictObject({ reason: z.string().trim().max(500).optional() });

export const listEscrowHoldsQuery = paginationQuery.extend({
  payeeId: uuidSchema.optional(),
  placementId: uuidSchema.optional(),
  status: z.enum(escrowHoldStatusValues).optional(),
  kind: z.enum(escrowHoldKindValues).optional(),
});

export const escrowHoldResponse = z.object({
  id: z.string(),
  payeeId: z.string(),
  placementId: z.string().nullable(),
  kind: z.enum(escrowHoldKindValues),
  amountCents: centsOut,
  currency: z.string(),
  reason: z.string(),
  releaseAt: nullableTimestampOut,
  status: z.enum(escrowHoldStatusValues),
  // false while a placement hold waits for its schedule to credit the money it holds
  funded: z.boolean(),
  releasedAt: nullableTimestampOut,
  cancelledAt: nullableTimestampOut,
  createdBy: z.string().nullable(),
  createdAt: timestampOut,
  updatedAt: timestampOut,
});
export type EscrowHoldResponse = z.infer<typeof escrowHoldResponse>;

export const activeHoldTotalsResponse = z.object({
  placementId: z.string(),
  totals: z.array(z.object({ currency: z.string(), amountCents: centsOut, count: z.number().int() })),
});
