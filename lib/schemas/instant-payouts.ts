import { z } from "zod";
import {
  centsOut,
  currencyCode,
  nullableTimestampOut,
  positiveCents,
  timestampOut,
  wholeCents,
} from "./common";

// Instant payouts on demand (lib/instant-payouts): the quote a payee sees, the confirmation, the answer.

/** GET /api/v1/payees/:id/instant-payouts/quote?currency=usd&amountCents=...: default the most the payee can take. */
export const instantQuoteQuery = z.strictObject({
  currency: currencyCode.default("usd"),
  amountCents: z.coerce.number().pipe(positiveCents).optional(),
});

/** POST /api/v1/payees/:id/instant-payouts: the amount and fee the payee confirmed, and one key per confirmation. */
export const instantPayoutBody = z.strictObject({
  currency: currencyCode.default("usd"),
  amountCents: positiveCents,
  expectedFeeCents: wholeCents,
  requestKey: z
    .string()
    .regex(/^[A-Za-z0-9_-]{8,100}$/, "must be 8 to 100 letters, digits, '-' or '_' (one per confirmation)"),
});
export type InstantPayoutBody = z.infer<typeof instantPayoutBody>;

/** The dashboard's confirmation form: the same fields, as form text (the payee is the signed-in one, never the form's). */
export const instantPayoutForm = z.strictObject({
  currency: currencyCode,
  amountCents: z.coerce.number().pipe(positiveCents),
  expectedFeeCents: z.coerce.number().pipe(wholeCents),
  requestKey: instantPayoutBody.shape.requestKey,
});

export const instantQuoteResponse = z.object({
  payeeId: z.string(),
  currency: z.string(),
  availableCents: centsOut,
  instantAvailableCents: centsOut,
  maxAmountCents: centsOut,
  amountCents: centsOut,
  feeCents: centsOut,
  netCents: centsOut,
  feePercent: z.number(),
  feeMinimumCents: centsOut,
  daily: z.object({
    count: z.number(),
    countLimit: z.number(),
    amountCents: centsOut,
    amountLimitCents: centsOut,
  }),
  card: z.object({ brand: z.string().nullable(), last4: z.string().nullable() }).nullable(),
  eligible: z.boolean(),
  reason: z.string().nullable(),
});

/** An instant payout as the API shows it: what left available (amount + fee), the fee, and what reaches the card. */
export const instantPayoutResponse = z
  .object({
    id: z.string(),
    payeeId: z.string(),
    status: z.string(),
    currency: z.string(),
    amountCents: centsOut,
    feeCents: centsOut,
    stripePayoutId: z.string().nullable(),
    failureCode: z.string().nullable(),
    failureMessage: z.string().nullable(),
    arrivalDate: nullableTimestampOut,
    createdAt: timestampOut,
  })
  .transform((p) => ({
    id: p.id,
    payeeId: p.payeeId,
    status: p.status,
    currency: p.currency,
    amountCents: p.amountCents + p.feeCents,
    feeCents: p.feeCents,
    netCents: p.amountCents,
    stripePayoutId: p.stripePayoutId,
    failureCode: p.failureCode,
    failureMessage: p.failureMessage,
    arrivalDate: p.arrivalDate,
    createdAt: p.createdAt,
  }));
