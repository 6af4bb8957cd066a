// POST /api/v1/payouts/:id/approve (platform_admin, finance): approve a payout awaiting approval, with a reason; the run sends it.
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { approvePayout } from "@/lib/payouts/approval";
import { idParamsSchema } from "@/lib/schemas/common";
import { approvalDecisionBody, approvalDecisionResponse } from "@/lib/schemas/payouts";

export const dynamic = "force-dynamic";

export const POST = withUser<{ id: string }>(
  { roles: ["platform_admin", "finance"] },
  async ({ db, env, params, rawBody, actor }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const { reason } = parseJsonBody(approvalDecisionBody, rawBody);
    const decision = await approvePayout(db, env, { payoutId: id, actor, reason });
    return json(approvalDecisionResponse.parse(decision));
  },
);
