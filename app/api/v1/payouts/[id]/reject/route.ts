// POST /api/v1/payouts/:id/reject (platform_admin, finance): reject a payout awaiting approval, with a reason; its money stays available.
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { rejectPayout } from "@/lib/payouts/approval";
import { idParamsSchema } from "@/lib/schemas/common";
import { approvalDecisionBody, approvalDecisionResponse } from "@/lib/schemas/payouts";

export const dynamic = "force-dynamic";

export const POST = withUser<{ id: string }>(
  { roles: ["platform_admin", "finance"] },
  async ({ db, params, rawBody, actor }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const { reason } = parseJsonBody(approvalDecisionBody, rawBody);
    const decision = await rejectPayout(db, { payoutId: id, actor, reason });
    return json(approvalDecisionResponse.parse(decision));
  },
);
