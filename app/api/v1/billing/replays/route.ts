// GET /api/v1/billing/replays: stored Stripe events that failed or wait, filtered and paginated (platform admins).
import { withUser } from "@/lib/api/with-user";
import { json, parseQuery } from "@/lib/api/respond";
import { replayListQuery } from "@/lib/webhooks/replay-schemas";
import { listReplayEvents } from "@/lib/webhooks/replays";

export const dynamic = "force-dynamic";

export const GET = withUser({ roles: ["platform_admin"] }, async ({ db, url }) => {
  const query = parseQuery(replayListQuery, url);
  return json(await listReplayEvents(db, query));
});
