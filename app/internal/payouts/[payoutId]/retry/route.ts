// POST /internal/payouts/:payoutId/retry: plan a failed payout again and hand its run to a continuation.
import { z } from "zod";
import { withInternal } from "@/lib/api/handler";
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { retryPayout } from "@/lib/payouts/retry";

export const dynamic = "force-dynamic";

const bodySchema = z.object({ reason: z.string().max(500).optional() }).strict();

export const POST = withInternal<{ payoutId: string }>(async ({ rawBody, db, env, actor, params }) => {
  const payoutId = parseWith(z.uuid(), params.payoutId, "payoutId");
  const { reason } = parseJsonBody(bodySchema, rawBody);
  return json(await retryPayout(db, env, payoutId, actor, reason), 202);
});
