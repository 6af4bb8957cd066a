// POST /internal/payouts/continue: the next slice of a run, sent by the run itself (QStash or local dispatcher).
import { z } from "zod";
import { withInternal } from "@/lib/api/handler";
import { json, parseJsonBody } from "@/lib/api/respond";
import { getPayoutGateway } from "@/lib/payouts/gateway";
import { resumePayoutRun } from "@/lib/payouts/continue";

export const dynamic = "force-dynamic";
export const maxDuration = 300;

const bodySchema = z.object({ runId: z.uuid() }).strict();

export const POST = withInternal(async ({ rawBody, db, env, actor }) => {
  const { runId } = parseJsonBody(bodySchema, rawBody);
  // 200 even when there is nothing to do, so QStash does not retry work that cannot happen.
  return json(await resumePayoutRun(db, env, getPayoutGateway(), { runId, actor }), 200);
});
