// POST /internal/sweeps/ledger-invariants: the hourly check of kept ledger balances against their entries; answers { processed, skipped, failed, remaining }.
import { withInternal } from "@/lib/api/handler";
import { json, parseJsonBody } from "@/lib/api/respond";
import { sweepRequestBody, sweepResponse } from "@/lib/schemas/sweeps";
import { invokeSweep } from "@/lib/sweep-endpoints/invoke";

export const dynamic = "force-dynamic";

export const POST = withInternal(async ({ db, env, rawBody }) => {
  const request = parseJsonBody(sweepRequestBody, rawBody);
  const result = await invokeSweep(db, env, "ledger-invariants", request);
  return json(sweepResponse.parse(result));
});
