import type { Db } from "../../db/client";
import type { Actor } from "../actor";
import type { Env } from "../env";
import type { PayoutGateway } from "./gateway";
import { isPayoutsPaused } from "./pause";
import { continuePayoutRun, runIsExecuting } from "./run";

/** The continue endpoint: go on with a run unless it is finished, unknown or payouts are paused. */
export async function resumePayoutRun(db: Db, env: Env, gateway: PayoutGateway, input: { runId: string; actor: Actor }) {
  if (await isPayoutsPaused(db, env)) return { runId: input.runId, status: "paused" };
  const executing = await runIsExecuting(db, input.runId);
  if (executing === null) return { runId: input.runId, status: "unknown_run" };
  if (!executing) return { runId: input.runId, status: "nothing_to_do" };
  const result = await continuePayoutRun(db, env, gateway, { runId: input.runId, actor: input.actor });
  return { runId: input.runId, status: result.runStatus ?? "executing", state: result.state, outcomes: result.outcomes };
}
