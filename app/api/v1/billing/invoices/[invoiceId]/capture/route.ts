// POST /api/v1/billing/invoices/:invoiceId/capture (platform_admin, Idempotency-Key): capture the
// invoice's authorised payment in full, or in part with {"amount": cents}; answers the invoice's new
// state. 409 outside BILLING_ROLLOUT_STAGE, with nothing written.
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { captureInvoice } from "@/lib/billing/invoices";
import {
  captureInvoiceBody,
  idempotencyKeyHeader,
  invoiceParamsSchema,
  invoiceResponse,
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
    const body = parseJsonBody(captureInvoiceBody, rawBody);
    const view = await captureInvoice(db, getStripeGateway(), {
      invoiceId,
      amountCents: body.amount ?? null,
      requestKey,
      actor,
      stage: env.BILLING_ROLLOUT_STAGE,
    });
    return json(invoiceResponse.parse(view));
  },
);
