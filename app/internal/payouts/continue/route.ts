// POST /internal/payouts/continue: the next slice of a run, sent by the run itself (QStash or local dispatcher).
import { withInternal } from "@/lib/api/handler";
import { json, parseJsonBody } from "@/lib/api/respond";
import { resumePayoutRun } from "@/lib/payouts/continue";
import { getStripeGateway } from "@/lib/stripe/client";
import { continueRunBody } from "@/lib/schemas/payouts";

export const dynamic = "force-dynamic";

export const POST = withInternal(async ({ rawBody, db, env, actor }) => {
  const body = parseJsonBody(continueRunBody, rawBody);
  // 200 even when there is nothing to do, so QStash does not retry work that cannot happen.
  return json(await resumePayoutRun(db, env, getStripeGateway(), { ...body, actor }), 200);
});
