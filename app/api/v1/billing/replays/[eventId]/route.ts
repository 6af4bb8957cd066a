// GET /api/v1/billing/replays/:eventId (one event, its attempts, lastReplayError);
// POST /api/v1/billing/replays/:eventId (replay it now; {"force": true} past the attempt cap). Platform admins.
import { z } from "zod";
import { withUser } from "@/lib/api/with-user";
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { appWebhookDeps } from "@/lib/webhooks/deps";
import { replayRequestBody } from "@/lib/webhooks/replay-schemas";
import { getReplayEvent, requestReplay } from "@/lib/webhooks/replays";

export const dynamic = "force-dynamic";

const params = z.object({ eventId: z.string().min(1).max(255) });
const admins = { roles: ["platform_admin"] as const };

export const GET = withUser<{ eventId: string }>(admins, async ({ db, params: raw }) => {
  const { eventId } = parseWith(params, raw, "path");
  return json(await getReplayEvent(db, eventId));
});

export const POST = withUser<{ eventId: string }>(
  admins,
  async ({ db, env, actor, rawBody, params: raw }) => {
    const { eventId } = parseWith(params, raw, "path");
    const { force } = parseJsonBody(replayRequestBody, rawBody);
    const { result, event } = await requestReplay(db, eventId, { force, actor, ...appWebhookDeps(env) });
    return json({ status: result.status, event });
  },
);
