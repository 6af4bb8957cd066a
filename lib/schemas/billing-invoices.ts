import { z } from "zod";
import {
  centsOut,
  currencyCode,
  nullableTimestampOut,
  positiveCents,
  timestampOut,
  uuidSchema,
} from "./common";

// Invoices (capture, refund, timeline) and manual adjustments: /api/v1/billing/* (docs/BILLING.md).
// Reason codes are listed here (no server imports); lib/billing checks the same lists.

export const refundReasonCodeValues = [
  "client_request",
  "duplicate",
  "billing_error",
  "guarantee_replacement",
  "service_issue",
  "fraudulent",
] as const;

export const adjustmentReasonCodeValues = [
  "billing_error",
  "goodwill_credit",
  "service_credit",
  "late_payment_fee",
  "chargeback_fee",
  "commission_correction",
  "bonus",
  "clawback",
  "write_off",
] as const;

export const invoiceParamsSchema = z.object({ invoiceId: uuidSchema });

/** The caller's Idempotency-Key header: required on every billing write. */
export const idempotencyKeyHeader = z
  .string({ message: "send an Idempotency-Key header (8 to 255 characters: letters, digits, - _ : .)" })
  .regex(/^[A-Za-z0-9_:.-]{8,255}$/, "Idempotency-Key must be 8 to 255 characters: letters, digits, - _ : .");

export const captureInvoiceBody = z.strictObject({
  // omitted: capture everything authorised
  amount: positiveCents.optional(),
});

export const refundInvoiceBody = z.strictObject({
  // omitted: refund everything left
  amount: positiveCents.optional(),
  reasonCode: z.enum(refundReasonCodeValues, {
    message: `reasonCode must be one of ${refundReasonCodeValues.join(", ")}`,
  }),
  note: z.string().trim().max(500).optional(),
});

const timelineEntryResponse = z.object({
  kind: z.string(),
  label: z.string(),
  occurredAt: timestampOut,
  amountCents: centsOut.nullable(),
  currency: z.string().nullable(),
  sourceId: z.string(),
  stripeIds: z.record(z.string(), z.string()),
  origin: z.enum(["api", "webhook"]),
  capturedCents: centsOut,
  refundedCents: centsOut,
});

export const invoiceResponse = z.object({
  id: z.string(),
  placementId: z.string(),
  clientName: z.string().nullable(),
  clientStripeCustomerId: z.string().nullable(),
  candidateName: z.string().nullable(),
  status: z.string(),
  amountCents: centsOut,
  currency: z.string(),
  stripeInvoiceId: z.string().nullable(),
  hostedInvoiceUrl: z.string().nullable(),
  billingPilot: z.boolean(),
  stripePaymentIntentId: z.string().nullable(),
  stripeChargeId: z.string().nullable(),
  authorisedCents: centsOut,
  capturedCents: centsOut,
  refundedCents: centsOut,
  capturableCents: centsOut,
  refundableCents: centsOut,
  settledAt: nullableTimestampOut,
  finalizedAt: nullableTimestampOut,
  paidAt: nullableTimestampOut,
  voidedAt: nullableTimestampOut,
  createdAt: timestampOut,
  timeline: z.array(timelineEntryResponse),
});

export const createAdjustmentBody = z
  .strictObject({
    target: z.enum(["client", "payee"]),
    payeeId: uuidSchema.optional(),
    clientStripeCustomerId: z
      .string()
      .regex(/^cus_[A-Za-z0-9]{1,250}$/, "clientStripeCustomerId must be a Stripe customer id (cus_...)")
      .optional(),
    direction: z.enum(["charge", "credit"]),
    amount: positiveCents,
    currency: currencyCode,
    reasonCode: z.enum(adjustmentReasonCodeValues, {
      message: `reasonCode must be one of ${adjustmentReasonCodeValues.join(", ")} (GET /api/v1/billing/adjustment-reasons)`,
    }),
    note: z.string().trim().min(1, "say why in a note").max(500),
  })
  .refine(
    (v) =>
      v.target === "payee"
        ? !!v.payeeId && !v.clientStripeCustomerId
        : !!v.clientStripeCustomerId && !v.payeeId,
    {
      message: "a payee adjustment names payeeId only; a client adjustment names clientStripeCustomerId only",
      path: ["target"],
    },
  );

export const adjustmentResponse = z.object({
  id: z.string(),
  target: z.enum(["client", "payee"]),
  payeeId: z.string().nullable(),
  clientStripeCustomerId: z.string().nullable(),
  direction: z.enum(["charge", "credit"]),
  amountCents: centsOut,
  currency: z.string(),
  reasonCode: z.string(),
  note: z.string(),
  ledgerTransactionId: z.string(),
  createdBy: z.string(),
  createdAt: timestampOut,
});
