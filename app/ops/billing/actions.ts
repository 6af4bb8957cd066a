"use server";

import { z } from "zod";
import { withAction } from "@/lib/api/with-action";
import { createAdjustment } from "@/lib/billing/adjustments";
import { captureInvoice, refundInvoice } from "@/lib/billing/invoices";
import { adjustmentReasonCodeValues, refundReasonCodeValues } from "@/lib/schemas/billing-invoices";
import { getStripeGateway } from "@/lib/stripe/client";

// /ops/billing actions: platform admins only, re-checked on the server for every call. Each form
// carries a request key drawn when the page was shown, used as the Idempotency-Key: a double submit
// captures, refunds or adjusts once. Amounts are typed in the currency's major unit ("45.00").

const ADMIN = ["platform_admin"] as const;
const requestKey = z.string().regex(/^[A-Za-z0-9-]{8,100}$/);
const amountText = z
  .string()
  .trim()
  .regex(/^(\d{1,12}(\.\d{1,2})?)?$/, "amount like 45.00");

/** "45.00" → 4500 in a two-decimal currency; empty → null (in full). */
function toCents(amount: string): number | null {
  if (amount === "") return null;
  const [whole = "0", fraction = ""] = amount.split(".");
  return Number(whole) * 100 + Number(fraction.padEnd(2, "0"));
}

export const captureInvoiceAction = withAction(
  {
    name: "captureInvoice",
    roles: ADMIN,
    page: "/ops/billing",
    form: z.object({ invoiceId: z.uuid(), amount: amountText, requestKey }),
    invalid: "An amount like 45.00 (or empty for all of it) is needed.",
    failed: "Could not capture the payment",
  },
  async ({ input, user, db, env }) => {
    const view = await captureInvoice(db, getStripeGateway(), {
      invoiceId: input.invoiceId,
      amountCents: toCents(input.amount),
      requestKey: `ops:${input.requestKey}`,
      actor: user.actor,
      stage: env.BILLING_ROLLOUT_STAGE,
    });
    return {
      notice: `Captured ${(view.capturedCents / 100).toFixed(2)} ${view.currency.toUpperCase()} on invoice ${view.stripeInvoiceId}.`,
    };
  },
);

export const refundInvoiceAction = withAction(
  {
    name: "refundInvoice",
    roles: ADMIN,
    page: "/ops/billing",
    form: z.object({
      invoiceId: z.uuid(),
      amount: amountText,
      reasonCode: z.enum(refundReasonCodeValues),
      note: z.string().trim().max(500),
      requestKey,
    }),
    invalid: "An amount like 45.00 (or empty for all that is left) and a reason are needed.",
    failed: "Could not refund the payment",
  },
  async ({ input, user, db, env }) => {
    const view = await refundInvoice(db, getStripeGateway(), {
      invoiceId: input.invoiceId,
      amountCents: toCents(input.amount),
      reasonCode: input.reasonCode,
      note: input.note || null,
      requestKey: `ops:${input.requestKey}`,
      actor: user.actor,
      stage: env.BILLING_ROLLOUT_STAGE,
    });
    return {
      notice: `Refunded ${(view.refundedCents / 100).toFixed(2)} ${view.currency.toUpperCase()} in all on invoice ${view.stripeInvoiceId}.`,
    };
  },
);

export const createAdjustmentAction = withAction(
  {
    name: "createAdjustment",
    roles: ADMIN,
    page: "/ops/billing",
    form: z.object({
      target: z.enum(["client", "payee"]),
      party: z.string().trim().min(1),
      direction: z.enum(["charge", "credit"]),
      amount: z
        .string()
        .trim()
        .regex(/^\d{1,12}(\.\d{1,2})?$/),
      currency: z
        .string()
        .trim()
        .regex(/^[a-zA-Z]{3}$/),
      reasonCode: z.enum(adjustmentReasonCodeValues),
      note: z.string().trim().min(1).max(500),
      requestKey,
    }),
    invalid: "Who (payee id or cus_ id), an amount like 45.00, a currency, a reason and a note are needed.",
    failed: "Could not post the adjustment",
  },
  async ({ input, user, db }) => {
    const isPayee = input.target === "payee";
    if (isPayee ? !z.uuid().safeParse(input.party).success : !/^cus_[A-Za-z0-9]+$/.test(input.party))
      return {
        error: isPayee
          ? "A payee adjustment needs the payee's id."
          : "A client adjustment needs the client's Stripe customer id (cus_...).",
      };
    const { adjustment, created } = await createAdjustment(db, {
      target: input.target,
      payeeId: isPayee ? input.party : null,
      clientStripeCustomerId: isPayee ? null : input.party,
      direction: input.direction,
      amountCents: toCents(input.amount)!,
      currency: input.currency.toLowerCase(),
      reasonCode: input.reasonCode,
      note: input.note,
      requestKey: `ops:${input.requestKey}`,
      actor: user.actor,
    });
    return {
      notice: created
        ? `Adjustment ${adjustment.id} posted to the ledger.`
        : `Already posted as adjustment ${adjustment.id}.`,
    };
  },
);
