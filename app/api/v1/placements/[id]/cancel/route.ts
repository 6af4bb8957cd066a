// POST /api/v1/placements/:id/cancel (platform_admin): the hire fell through or was called off.
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { cancelPlacement } from "@/lib/placements/crud";
import { idParamsSchema } from "@/lib/schemas/common";
import { cancelPlacementBody, placementResponse } from "@/lib/schemas/placements";

export const dynamic = "force-dynamic";

export const POST = withUser<{ id: string }>(
  { roles: ["platform_admin"] },
  async ({ db, params, rawBody, actor }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const input = parseJsonBody(cancelPlacementBody, rawBody);
    const placement = await cancelPlacement(db, { id, input, actor });
    return json(placementResponse.parse(placement));
  },
);
