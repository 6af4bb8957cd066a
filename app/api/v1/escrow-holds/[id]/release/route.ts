// POST /api/v1/escrow-holds/:id/release (platform_admin): end the hold early: the money becomes available.
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { endEscrowHold } from "@/lib/escrow/holds";
import { toHoldResponse } from "@/lib/escrow/respond";
import { idParamsSchema } from "@/lib/schemas/common";
import { endEscrowHoldBody, escrowHoldResponse } from "@/lib/schemas/escrow";

export const dynamic = "force-dynamic";

export const POST = withUser<{ id: string }>(
  { roles: ["platform_admin"] },
  async ({ db, params, rawBody, actor }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const { reason } = parseJsonBody(endEscrowHoldBody, rawBody);
    const hold = await endEscrowHold(db, { id, outcome: "released", actor, reason });
    return json(escrowHoldResponse.parse(toHoldResponse(hold)));
  },
);
