// GET /api/v1/billing/adjustment-reasons (platform_admin, finance): the fixed reason codes for
// adjustments (and for refunds), with what each applies to.
import { json } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { adjustmentReasons } from "@/lib/billing/adjustments";
import { refundReasons } from "@/lib/billing/invoices";

export const dynamic = "force-dynamic";

export const GET = withUser({ roles: ["platform_admin", "finance"] }, async () => {
  return json({ adjustment: adjustmentReasons, refund: refundReasons });
});
