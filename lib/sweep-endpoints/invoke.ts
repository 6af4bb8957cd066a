import { randomUUID } from "node:crypto";
import type { Db } from "../../db/client";
import type { Env } from "../env";
import { log } from "../observability/log";
import { dispatchInternal } from "../scheduler/dispatch";
import type { SweepRequest } from "../schemas/sweeps";
import { getStripeGateway } from "../stripe/client";
import type { StripeGateway } from "../stripe/gateway";
import { invocationBudgetMs } from "../time";
import { sweepDefinition } from "./registry";
import { type RunSweepOptions, recordSweepRun, runSweep } from "../sweeps/run";
import type { SweepName, SweepResult } from "../sweeps/types";

// Above the domains: the registry names every domain's sweep, and the domains build their sweeps
// with lib/sweeps (the kit), so the kit never imports a domain and no import goes round in a circle.

/** A chain of continuations stops here even if work remains (the next hourly trigger picks it up). */
export const MAX_CONTINUATIONS = 50;

/**
 * One invocation of POST /internal/sweeps/<name>: run within a third of the function's maxDuration,
 * then, if work is left, hand the rest to a fresh invocation through the scheduler's dispatcher
 * (QStash, or the local dispatcher), deduplicated per chain and step so a retried delivery never
 * forks the chain.
 */
export async function invokeSweep(
  db: Db,
  env: Env,
  name: SweepName,
  request: SweepRequest,
  options: RunSweepOptions & { gateway?: StripeGateway; dispatch?: typeof dispatchInternal } = {},
): Promise<SweepResult & { continued: boolean }> {
  const definition = sweepDefinition(name, {
    env,
    gateway: () => options.gateway ?? getStripeGateway(),
    continuation: request.continuation !== undefined && request.continuation > 0,
  });
  const result = await runSweep(db, definition, { budgetMs: invocationBudgetMs(env), ...options });
  await recordSweepRun(db, name, result);
  const step = request.continuation ?? 0;
  let continued = false;
  if (result.remaining > 0 && step < MAX_CONTINUATIONS) {
    const chainId = request.chainId ?? randomUUID();
    const dispatch = options.dispatch ?? dispatchInternal;
    await dispatch(db, env, {
      path: `/internal/sweeps/${name}`,
      body: { continuation: step + 1, chainId },
      dedupeId: `sweep.${name}.${chainId}.${step + 1}`,
      flowControlKey: `sweep-${name}`,
    });
    continued = true;
    log.info("sweep continues", { sweep: name, remaining: result.remaining, continuation: step + 1 });
  }
  return { ...result, continued };
}
