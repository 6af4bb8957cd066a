// POST /api/v1/billing/invoices/:invoiceId/refund (platform_admin, Idempotency-Key): refund the
// captured payment in full, or in part with {"amount": cents}, with a reasonCode (and a note);
// answers the invoice's new state. 409 outside BILLING_ROLLOUT_STAGE, with nothing written.
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { refundInvoice } from "@/lib/billing/invoices";
import {
  idempotencyKeyHeader,
  invoiceParamsSchema,
  invoiceResponse,
  refundInvoiceBody,
} from "@/lib/schemas/billing-invoices";
import { getStripeGateway } from "@/lib/stripe/client";

export const dynamic = "force-dynamic";

export const POST = withUser<{ invoiceId: string }>(
  { roles: ["platform_admin"] },
  async ({ db, env, req, params, rawBody, actor }) => {
    const { invoiceId } = parseWith(invoiceParamsSchema, params, "path");
    const requestKey = parseWith(
      idempotencyKeyHeader,
      req.headers.get("idempotency-key") ?? undefined,
      "Idempotency-Key header",
    );
    const body = parseJsonBody(refundInvoiceBody, rawBody);
    const view = await refundInvoice(db, getStripeGateway(), {
      invoiceId,
      amountCents: body.amount ?? null,
      reasonCode: body.reasonCode,
      note: body.note ?? null,
      requestKey,
      actor,
      stage: env.BILLING_ROLLOUT_STAGE,
    });
    return json(invoiceResponse.parse(view));
  },
);
