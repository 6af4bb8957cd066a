// GET /api/v1/billing/invoices/:invoiceId/pdf (platform_admin, finance): 302 to Stripe's PDF of the
// invoice (`invoice_pdf`); 409 while it is not finalized.
import { NextResponse } from "next/server";
import { parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { invoicePdfUrl } from "@/lib/billing/invoices";
import { invoiceParamsSchema } from "@/lib/schemas/billing-invoices";
import { getStripeGateway } from "@/lib/stripe/client";

export const dynamic = "force-dynamic";

export const GET = withUser<{ invoiceId: string }>(
  { roles: ["platform_admin", "finance"] },
  async ({ db, params }) => {
    const { invoiceId } = parseWith(invoiceParamsSchema, params, "path");
    const url = await invoicePdfUrl(db, getStripeGateway(), invoiceId);
    return NextResponse.redirect(url, { status: 302, headers: { "cache-control": "no-store" } });
  },
);
