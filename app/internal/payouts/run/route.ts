// POST /internal/payouts/run: start or go on with the cycle's payout run (QStash schedule or ops).
import { z } from "zod";
import { withInternal } from "@/lib/api/handler";
import { json, parseJsonBody } from "@/lib/api/respond";
import { getStripeGateway } from "@/lib/stripe/client";
import { triggerAndExecutePayoutRun } from "@/lib/payouts/run";
import { isoDate } from "@/lib/schemas/common";

export const dynamic = "force-dynamic";

const bodySchema = z
  .object({
    cycleDate: isoDate.optional(),
    dryRun: z.boolean().optional(),
    payeeIds: z.array(z.uuid()).max(10_000).optional(),
  })
  .strict();

export const POST = withInternal(async ({ rawBody, db, env, caller, actor }) => {
  const body = parseJsonBody(bodySchema, rawBody);
  const result = await triggerAndExecutePayoutRun(db, env, getStripeGateway(), {
    ...body,
    trigger: caller.kind === "qstash" ? "schedule" : "manual",
    actor,
  });
  if (result.kind === "paused") return json({ status: "paused" }, 200);
  const statusUrl = `/internal/payouts/status/${result.runId}`;
  if (result.kind === "dry_run") {
    return json({ runId: result.runId, cycleKey: result.cycleKey, status: "dry_run", dryRun: true, statusUrl, report: result.report }, 200);
  }
  // 200 only when this cycle's run had already finished before this call; a run this call started or
  // went on with is 202, even if it finished within the call (the body's status says so).
  const { runId, cycleKey, status } = result;
  return json({ runId, cycleKey, status, statusUrl }, result.finished ? 200 : 202);
});
