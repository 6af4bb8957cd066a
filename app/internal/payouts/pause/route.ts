// POST /internal/payouts/pause: pause all payouts (a DB flag, audited).
import { z } from "zod";
import { withInternal } from "@/lib/api/handler";
import { json, parseJsonBody } from "@/lib/api/respond";
import { setPayoutsPaused } from "@/lib/payouts/pause";

export const dynamic = "force-dynamic";

const bodySchema = z.object({ reason: z.string().max(500).optional() }).strict();

export const POST = withInternal(async ({ rawBody, db, env, actor }) => {
  const { reason } = parseJsonBody(bodySchema, rawBody);
  const result = await setPayoutsPaused(db, { paused: true, actor, reason });
  return json({ ...result, pausedByEnv: env.PAYOUTS_PAUSED });
});
