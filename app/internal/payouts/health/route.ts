// GET /internal/payouts/health: database, Stripe mode, scheduler, pause state, recent and stuck runs;
// reconciliation (last pass, open breaks, stripe_payout_missing_transfers) and sweep failures.
import { withInternal } from "@/lib/api/handler";
import { json } from "@/lib/api/respond";
import { payoutHealth } from "@/lib/payouts/health";
import { reconciliationHealth } from "@/lib/reconciliation/health";

export const dynamic = "force-dynamic";

export const GET = withInternal(async ({ db, env }) => {
  const health = await payoutHealth(db, env);
  if (health.database !== "ok") return json(health, 503);
  return json({ ...health, ...(await reconciliationHealth(db)) });
});
