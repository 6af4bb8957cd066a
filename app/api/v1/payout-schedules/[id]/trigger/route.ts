// POST /api/v1/payout-schedules/:id/trigger (platform_admin): work it now if its invoice is collectible.
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { triggerPayoutSchedule } from "@/lib/payout-schedules/admin";
import { idParamsSchema } from "@/lib/schemas/common";
import { triggerPayoutScheduleBody, triggerPayoutScheduleResponse } from "@/lib/schemas/payout-schedules";

export const dynamic = "force-dynamic";

export const POST = withUser<{ id: string }>(
  { roles: ["platform_admin"] },
  async ({ db, env, params, rawBody, actor }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const { reason } = parseJsonBody(triggerPayoutScheduleBody, rawBody);
    const result = await triggerPayoutSchedule(db, {
      id,
      actor,
      reason,
      clearingDelayHours: env.PLACEMENT_CLEARING_DELAY_HOURS,
    });
    return json(triggerPayoutScheduleResponse.parse(result));
  },
);
