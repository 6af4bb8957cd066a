// POST /internal/sweeps/webhook-replays (hourly): re-apply failed, pending and requested Stripe events.
import { withInternal } from "@/lib/api/handler";
import { json } from "@/lib/api/respond";
import { recordSweepRun } from "@/lib/sweeps/run";
import { invocationBudgetMs } from "@/lib/time";
import { appWebhookDeps } from "@/lib/webhooks/deps";
import { sweepWebhookReplays } from "@/lib/webhooks/sweep";

export const dynamic = "force-dynamic";

const sweep = withInternal(async ({ db, env }) => {
  // A third of the function's time: the rest is headroom for the slowest event in flight.
  const result = await sweepWebhookReplays(db, { ...appWebhookDeps(env), timeBudgetMs: invocationBudgetMs(env) });
  await recordSweepRun(db, "webhook-replays", result);
  return json(result);
});

// QStash schedules POST; Vercel Cron sends GET.
export const POST = sweep;
export const GET = sweep;
