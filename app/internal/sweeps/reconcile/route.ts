// POST /internal/sweeps/reconcile: the hourly pass matching Stripe's balance transactions and balances with the ledger; answers { processed, skipped, failed, remaining }.
import { withInternal } from "@/lib/api/handler";
import { json, parseJsonBody } from "@/lib/api/respond";
import { sweepRequestBody, sweepResponse } from "@/lib/schemas/sweeps";
import { invokeSweep } from "@/lib/sweep-endpoints/invoke";

export const dynamic = "force-dynamic";

export const POST = withInternal(async ({ db, env, rawBody }) => {
  const request = parseJsonBody(sweepRequestBody, rawBody);
  const result = await invokeSweep(db, env, "reconcile", request);
  return json(sweepResponse.parse(result));
});
