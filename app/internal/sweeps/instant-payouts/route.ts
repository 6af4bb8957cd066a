// POST /internal/sweeps/instant-payouts: every minute, finish instant payouts whose invocation died (lease ran out), looking up at Stripe first; answers { processed, skipped, failed, remaining }.
import { withInternal } from "@/lib/api/handler";
import { json, parseJsonBody } from "@/lib/api/respond";
import { sweepRequestBody, sweepResponse } from "@/lib/schemas/sweeps";
import { invokeSweep } from "@/lib/sweep-endpoints/invoke";

export const dynamic = "force-dynamic";

export const POST = withInternal(async ({ db, env, rawBody }) => {
  const request = parseJsonBody(sweepRequestBody, rawBody);
  const result = await invokeSweep(db, env, "instant-payouts", request);
  return json(sweepResponse.parse(result));
});
