// POST /internal/sweeps/webhook-replays (hourly): re-apply failed, pending and requested Stripe events.
import { withInternal } from "@/lib/api/handler";
import { json } from "@/lib/api/respond";
import { appWebhookDeps } from "@/lib/webhooks/deps";
import { sweepWebhookReplays } from "@/lib/webhooks/sweep";

export const dynamic = "force-dynamic";

const sweep = withInternal(async ({ db, env }) => {
  // A third of the function's time: the rest is headroom for the slowest event in flight.
  const timeBudgetMs = (env.PAYOUT_FUNCTION_MAX_DURATION_SECONDS * 1000) / 3;
  return json(await sweepWebhookReplays(db, { ...appWebhookDeps(env), timeBudgetMs }));
});

// QStash schedules POST; Vercel Cron sends GET.
export const POST = sweep;
export const GET = sweep;
