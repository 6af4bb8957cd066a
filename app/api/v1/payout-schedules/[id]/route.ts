// GET /api/v1/payout-schedules/:id (a payee only its own; anyone else's is a 404).
import { json, parseWith } from "@/lib/api/respond";
import { payeeScope, withUser } from "@/lib/api/with-user";
import { getPayoutSchedule } from "@/lib/payout-schedules/admin";
import { idParamsSchema } from "@/lib/schemas/common";
import { payoutScheduleResponse } from "@/lib/schemas/payout-schedules";

export const dynamic = "force-dynamic";

export const GET = withUser<{ id: string }>(
  { roles: ["platform_admin", "finance", "payee"] },
  async ({ db, params, user }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const schedule = await getPayoutSchedule(db, { id, scopePayeeId: payeeScope(user) });
    return json(payoutScheduleResponse.parse(schedule));
  },
);
