// GET /api/v1/payees/:id/payout-settings and PATCH (platform_admin): enabled, beta flag, minimum.
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { payeeScope, withUser } from "@/lib/api/with-user";
import { getPayoutSettings, updatePayoutSettings } from "@/lib/payees/admin-crud";
import { idParamsSchema } from "@/lib/schemas/common";
import { payoutSettingsBody, payoutSettingsResponse } from "@/lib/schemas/payees";

export const dynamic = "force-dynamic";

export const GET = withUser<{ id: string }>(
  { roles: ["platform_admin", "finance", "payee"] },
  async ({ db, params, user }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const settings = await getPayoutSettings(db, { payeeId: id, scopePayeeId: payeeScope(user) });
    return json(payoutSettingsResponse.parse(settings));
  },
);

export const PATCH = withUser<{ id: string }>(
  { roles: ["platform_admin"] },
  async ({ db, params, rawBody, actor }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const input = parseJsonBody(payoutSettingsBody, rawBody);
    const settings = await updatePayoutSettings(db, { payeeId: id, input, actor });
    return json(payoutSettingsResponse.parse(settings));
  },
);
