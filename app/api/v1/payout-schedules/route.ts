// GET /api/v1/payout-schedules: list (filters: payee, placement, status; a payee sees its own).
import { json, parseQuery } from "@/lib/api/respond";
import { payeeScope, withUser } from "@/lib/api/with-user";
import { listPayoutSchedules } from "@/lib/payout-schedules/admin";
import { pageOf } from "@/lib/schemas/common";
import { listPayoutSchedulesQuery, payoutScheduleResponse } from "@/lib/schemas/payout-schedules";

export const dynamic = "force-dynamic";

export const GET = withUser({ roles: ["platform_admin", "finance", "payee"] }, async ({ db, url, user }) => {
  const query = parseQuery(listPayoutSchedulesQuery, url);
  const page = await listPayoutSchedules(db, { ...query, scopePayeeId: payeeScope(user) });
  return json(pageOf(payoutScheduleResponse).parse(page));
});
