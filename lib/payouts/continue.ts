import type { Db } from "../../db/client";
import type { Actor } from "../actor";
import type { Env } from "../env";
import type { PayoutGateway } from "./process-payout";
import { isPayoutsPaused } from "./pause";
import { continuePayoutRun, runExecution, takeOverRun } from "./run";

export type ContinueInput = {
  runId: string;
  /** The chain and step of a continuation; absent: a request to get the run going (retry, ops). */
  chainId?: string;
  continuation?: number;
  actor: Actor;
};

/**
 * The continue endpoint: the next step of the run's current chain, or, without a chain, a nudge
 * that takes the run over only if nobody is working on it (a live chain picks the work up itself).
 * Nothing to do (finished, unknown, paused, superseded) is an answer, not an error, so QStash does
 * not retry it.
 */
export async function resumePayoutRun(db: Db, env: Env, gateway: PayoutGateway, input: ContinueInput) {
  const { runId } = input;
  if (await isPayoutsPaused(db, env)) return { runId, status: "paused" };
  const run = await runExecution(db, runId);
  if (!run) return { runId, status: "unknown_run" };
  if (run.status !== "executing") return { runId, status: "nothing_to_do" };
  let chainId = input.chainId;
  if (chainId === undefined) {
    chainId = (await takeOverRun(db, env, runId, input.actor, { reason: "resumed on request" })) ?? undefined;
    if (!chainId) return { runId, status: "executing", note: "a live slice is working on this run" };
  } else if (chainId !== run.chainId) {
    return { runId, status: "superseded", note: "a newer chain took this run over" };
  }
  const result = await continuePayoutRun(db, env, gateway, { runId, chainId, continuation: input.continuation, actor: input.actor });
  return { runId, status: result.runStatus ?? "executing", state: result.state, outcomes: result.outcomes };
}
