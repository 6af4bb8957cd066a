// POST /api/v1/payout-schedules/:id/cancel (platform_admin): stop a schedule that has not paid out.
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { cancelPayoutSchedule } from "@/lib/payout-schedules/admin";
import { idParamsSchema } from "@/lib/schemas/common";
import { cancelPayoutScheduleBody, payoutScheduleResponse } from "@/lib/schemas/payout-schedules";

export const dynamic = "force-dynamic";

export const POST = withUser<{ id: string }>(
  { roles: ["platform_admin"] },
  async ({ db, params, rawBody, actor }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const { reason } = parseJsonBody(cancelPayoutScheduleBody, rawBody);
    const schedule = await cancelPayoutSchedule(db, { id, actor, reason });
    return json(payoutScheduleResponse.parse(schedule));
  },
);
