// GET /internal/payouts/status/:runId: counts, amounts, progress and problems of one run.
import { withInternal } from "@/lib/api/handler";
import { notFound } from "@/lib/errors";
import { json } from "@/lib/api/respond";
import { getRunStatus } from "@/lib/payouts/queries";

export const dynamic = "force-dynamic";

export const GET = withInternal<{ runId: string }>(async ({ db, params }) => {
  const status = await getRunStatus(db, params.runId);
  if (!status) throw notFound("payout run");
  return json(status);
});
