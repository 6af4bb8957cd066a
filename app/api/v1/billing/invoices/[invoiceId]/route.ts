// GET /api/v1/billing/invoices/:invoiceId (platform_admin, finance): the invoice with its payment state
// and timeline (in Stripe's order), cumulative captured and refunded amounts and settlement time.
import { json, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { getInvoiceView } from "@/lib/billing/invoices";
import { invoiceParamsSchema, invoiceResponse } from "@/lib/schemas/billing-invoices";

export const dynamic = "force-dynamic";

export const GET = withUser<{ invoiceId: string }>(
  { roles: ["platform_admin", "finance"] },
  async ({ db, params }) => {
    const { invoiceId } = parseWith(invoiceParamsSchema, params, "path");
    return json(invoiceResponse.parse(await getInvoiceView(db, invoiceId)));
  },
);
