import { z } from "zod";
import { breakKinds } from "../../db/schema";
import { centsOut, currencyCode, nullableTimestampOut, paginationQuery, positiveCents, timestampOut, uuidSchema } from "./common";

export const listBreaksQuery = paginationQuery.extend({
  kind: z.enum(breakKinds).optional(),
  status: z.enum(["open", "resolved", "closed"]).optional(),
  account: z
    .string()
    .regex(/^(platform|acct_[A-Za-z0-9]{1,64})$/, "must be platform or a connected account id (acct_...)")
    .optional(),
});

export const resolveBreakBody = z.strictObject({
  reason: z.string().trim().min(3, "say why this difference is accepted").max(1000),
});

export const breakResponse = z.object({
  id: z.string(),
  kind: z.enum(breakKinds),
  account: z.string(),
  stripeObject: z.string().nullable(),
  currency: z.string().nullable(),
  stripeAmount: centsOut.nullable(),
  ledgerAmount: centsOut.nullable(),
  details: z.record(z.string(), z.unknown()),
  status: z.enum(["open", "resolved", "closed"]),
  firstSeenAt: timestampOut,
  lastSeenAt: timestampOut,
  closedAt: nullableTimestampOut,
  resolvedAt: nullableTimestampOut,
  resolvedBy: z.string().nullable(),
  resolution: z.string().nullable(),
});

export const outOfBandPayoutBody = z.strictObject({
  payeeId: uuidSchema,
  amountCents: positiveCents,
  currency: currencyCode,
  stripePayoutId: z
    .string()
    .regex(/^po_[A-Za-z0-9]{1,64}$/, "must be a Stripe payout id (po_...)")
    .nullable()
    .optional(),
  reason: z.string().trim().min(3, "say why the payout was made by hand").max(1000),
});
export type OutOfBandPayoutBody = z.infer<typeof outOfBandPayoutBody>;

export const outOfBandPayoutResponse = z.object({
  id: z.string(),
  payeeId: z.string(),
  amountCents: centsOut,
  currency: z.string(),
  status: z.string(),
  origin: z.string(),
  stripePayoutId: z.string().nullable(),
  note: z.string().nullable(),
  createdAt: timestampOut,
});
