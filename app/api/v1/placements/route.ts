// GET /api/v1/placements (list; a payee sees its own) and POST /api/v1/placements (platform_admin).
import { json, parseJsonBody, parseQuery } from "@/lib/api/respond";
import { payeeScope, withUser } from "@/lib/api/with-user";
import { createPlacement, listPlacements } from "@/lib/placements/crud";
import { pageOf } from "@/lib/schemas/common";
import { createPlacementBody, listPlacementsQuery, placementResponse } from "@/lib/schemas/placements";

export const dynamic = "force-dynamic";

export const GET = withUser({ roles: ["platform_admin", "finance", "payee"] }, async ({ db, url, user }) => {
  const query = parseQuery(listPlacementsQuery, url);
  const page = await listPlacements(db, { ...query, scopePayeeId: payeeScope(user) });
  return json(pageOf(placementResponse).parse(page));
});

export const POST = withUser({ roles: ["platform_admin"] }, async ({ db, env, rawBody, actor }) => {
  const input = parseJsonBody(createPlacementBody, rawBody);
  const placement = await createPlacement(db, { input, actor, timeZone: env.PAYOUT_TIMEZONE, plans: env.billingPlans });
  return json(placementResponse.parse(placement), 201);
});
