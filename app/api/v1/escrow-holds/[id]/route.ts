// GET /api/v1/escrow-holds/:id (a payee only its own; anyone else's is a 404).
import { json, parseWith } from "@/lib/api/respond";
import { payeeScope, withUser } from "@/lib/api/with-user";
import { getEscrowHold } from "@/lib/escrow/holds";
import { toHoldResponse } from "@/lib/escrow/respond";
import { idParamsSchema } from "@/lib/schemas/common";
import { escrowHoldResponse } from "@/lib/schemas/escrow";

export const dynamic = "force-dynamic";

export const GET = withUser<{ id: string }>(
  { roles: ["platform_admin", "finance", "payee"] },
  async ({ db, params, user }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const hold = await getEscrowHold(db, { id, scopePayeeId: payeeScope(user) });
    return json(escrowHoldResponse.parse(toHoldResponse(hold)));
  },
);
