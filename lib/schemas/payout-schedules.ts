import { z } from "zod";
import { centsOut, nullableTimestampOut, paginationQuery, timestampOut, uuidSchema } from "./common";

export const payoutScheduleStatusValues = [
  "pending",
  "processing",
  "processed",
  "failed",
  "cancelled",
] as const;

export const listPayoutSchedulesQuery = paginationQuery.extend({
  payeeId: uuidSchema.optional(),
  placementId: uuidSchema.optional(),
  status: z.enum(payoutScheduleStatusValues).optional(),
});

export const cancelPayoutScheduleBody = z.strictObject({
  reason: z.string().trim().min(1, "say why").max(500),
});
export const triggerPayoutScheduleBody = z.strictObject({ reason: z.string().trim().max(500).optional() });

export const payoutScheduleResponse = z.object({
  id: z.string(),
  placementId: z.string().nullable(),
  payeeId: z.string(),
  amountCents: centsOut,
  currency: z.string(),
  dueAt: timestampOut,
  status: z.enum(payoutScheduleStatusValues),
  retryCount: z.number().int(),
  lastRetryAt: nullableTimestampOut,
  nextAttemptAt: nullableTimestampOut,
  failureReason: z.string().nullable(),
  processedAt: nullableTimestampOut,
  createdAt: timestampOut,
  updatedAt: timestampOut,
});
export type PayoutScheduleResponse = z.infer<typeof payoutScheduleResponse>;

export const triggerPayoutScheduleResponse = z.object({
  outcome: z.enum(["processed", "not_collectible", "failed"]),
  schedule: payoutScheduleResponse,
});
