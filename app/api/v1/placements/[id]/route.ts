// GET /api/v1/placements/:id and PATCH (platform_admin; only while the placement is active).
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { payeeScope, withUser } from "@/lib/api/with-user";
import { getPlacement, updatePlacement } from "@/lib/placements/crud";
import { idParamsSchema } from "@/lib/schemas/common";
import { placementResponse, updatePlacementBody } from "@/lib/schemas/placements";

export const dynamic = "force-dynamic";

export const GET = withUser<{ id: string }>(
  { roles: ["platform_admin", "finance", "payee"] },
  async ({ db, params, user }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const placement = await getPlacement(db, { id, scopePayeeId: payeeScope(user) });
    return json(placementResponse.parse(placement));
  },
);

export const PATCH = withUser<{ id: string }>(
  { roles: ["platform_admin"] },
  async ({ db, env, params, rawBody, actor }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const input = parseJsonBody(updatePlacementBody, rawBody);
    const placement = await updatePlacement(db, { id, input, actor, timeZone: env.PAYOUT_TIMEZONE });
    return json(placementResponse.parse(placement));
  },
);
