// GET /internal/payouts/health: database, Stripe mode, scheduler, pause state, recent and stuck runs.
import { withInternal } from "@/lib/api/handler";
import { json } from "@/lib/api/respond";
import { payoutHealth } from "@/lib/payouts/health";

export const dynamic = "force-dynamic";

export const GET = withInternal(async ({ db, env }) => {
  const health = await payoutHealth(db, env);
  return json(health, health.database === "ok" ? 200 : 503);
});
