// POST /internal/payouts/watchdog: continue any run whose invocation died (QStash schedule every few minutes).
import { withInternal } from "@/lib/api/handler";
import { json, parseJsonBody } from "@/lib/api/respond";
import { resumeStalledRuns } from "@/lib/payouts/watchdog";
import { watchdogBody } from "@/lib/schemas/payouts";

export const dynamic = "force-dynamic";

export const POST = withInternal(async ({ rawBody, db, env, actor }) => {
  parseJsonBody(watchdogBody, rawBody);
  return json(await resumeStalledRuns(db, env, actor), 200);
});
