// GET /api/v1/placements/:id/escrow-holds: the holds on one placement (a payee only on its own).
import { json, parseQuery, parseWith } from "@/lib/api/respond";
import { payeeScope, withUser } from "@/lib/api/with-user";
import { listEscrowHolds } from "@/lib/escrow/holds";
import { getPlacement } from "@/lib/placements/crud";
import { idParamsSchema, pageOf } from "@/lib/schemas/common";
import { escrowHoldResponse, listEscrowHoldsQuery } from "@/lib/schemas/escrow";
import { toHoldResponse } from "@/lib/escrow/respond";

export const dynamic = "force-dynamic";

export const GET = withUser<{ id: string }>(
  { roles: ["platform_admin", "finance", "payee"] },
  async ({ db, params, url, user }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const query = parseQuery(listEscrowHoldsQuery, url);
    const scopePayeeId = payeeScope(user);
    await getPlacement(db, { id, scopePayeeId });
    const page = await listEscrowHolds(db, { ...query, placementId: id, scopePayeeId });
    return json(pageOf(escrowHoldResponse).parse({ ...page, data: page.data.map(toHoldResponse) }));
  },
);
