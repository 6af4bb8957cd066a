// GET /api/v1/placements/:id/escrow-holds/total: the sum of active holds on a placement, per currency.
import { json, parseWith } from "@/lib/api/respond";
import { payeeScope, withUser } from "@/lib/api/with-user";
import { activeHoldTotalByPlacement } from "@/lib/escrow/holds";
import { idParamsSchema } from "@/lib/schemas/common";
import { activeHoldTotalsResponse } from "@/lib/schemas/escrow";

export const dynamic = "force-dynamic";

export const GET = withUser<{ id: string }>(
  { roles: ["platform_admin", "finance", "payee"] },
  async ({ db, params, user }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const totals = await activeHoldTotalByPlacement(db, { placementId: id, scopePayeeId: payeeScope(user) });
    return json(activeHoldTotalsResponse.parse(totals));
  },
);
