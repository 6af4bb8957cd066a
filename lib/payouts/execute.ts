import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { type Actor, systemActor } from "../actor";
import type { Env } from "../env";
import { type ClaimedPayout, claimPayouts, releasePayout, releaseUnstarted, remainingWork } from "./claim";
import { finalizeRunIfDone } from "./finish";
import type { PayoutGateway } from "./gateway";
import { limitsFromEnv, StripeRateLimiter } from "./limiter";
import { type ExecutorHooks, failClaimed, type PayoutOutcome, processPayout } from "./process-payout";

/** After this many claims a payout that keeps meeting retryable errors is failed, not retried for ever. */
export const MAX_PAYOUT_ATTEMPTS = 10;

export type ExecuteOptions = {
  runId: string;
  /** Stop claiming new work at this instant (a third of the function's maxDuration). */
  deadline: Date | number;
  /** Payouts in flight at once; the limiter, not this, sets the pace. */
  concurrency?: number;
  batchSize?: number;
  hooks?: ExecutorHooks;
  /** Share one limiter across invocations in one process (the bench, the local server). */
  limiter?: StripeRateLimiter;
  actor?: Actor;
  maxRetries?: number;
  leaseSeconds?: number;
};

export type ExecuteResult = {
  runId: string;
  /** done: nothing left to do; more: hand the rest to a continuation (after `retryAfterSeconds`) */
  state: "done" | "more";
  retryAfterSeconds: number;
  outcomes: Record<PayoutOutcome, number>;
  rateLimited: number;
  retries: number;
  runStatus?: string;
  /** When more is left: payouts settled so far and attempts made, the continuation's progress point. */
  progress?: { done: number; attempts: number };
};

const sharedLimiters = new Map<string, StripeRateLimiter>();

/** One limiter per process and configuration: every run slice in this process shares Stripe's budget. */
export function processLimiter(env: Env): StripeRateLimiter {
  const limits = limitsFromEnv(env);
  const key = JSON.stringify(limits);
  let limiter = sharedLimiters.get(key);
  if (!limiter) {
    limiter = new StripeRateLimiter(limits);
    sharedLimiters.set(key, limiter);
  }
  return limiter;
}

/**
 * Work through a run's planned payouts until none is left or the deadline passes: workers take
 * payouts from a queue refilled by SKIP LOCKED claims, so Stripe calls flow without gaps between
 * batches; the heartbeat moves with every claim. Finishes the run when nothing is left.
 */
export async function executePayoutRun(db: Db, env: Env, gateway: PayoutGateway, options: ExecuteOptions): Promise<ExecuteResult> {
  const deadline = typeof options.deadline === "number" ? options.deadline : options.deadline.getTime();
  const owner = `exec:${randomUUID()}`;
  const actor = options.actor ?? systemActor("payout-run");
  const concurrency = options.concurrency ?? 32;
  const batchSize = options.batchSize ?? Math.max(concurrency * 2, 50);
  const limiter = options.limiter ?? processLimiter(env);
  const stats = { rateLimited: 0, retries: 0 };
  const outcomes: Record<PayoutOutcome, number> = { in_transit: 0, failed: 0, deferred: 0, lost_lease: 0, not_started: 0, interrupted: 0 };
  const unstarted: string[] = [];
  const ctx = { db, gateway, limiter, actor, owner, hooks: options.hooks, stats, maxRetries: options.maxRetries, deadline };

  const queue: ClaimedPayout[] = [];
  let exhausted = false;
  // Set when the limiter has no Stripe slot left before the deadline: every payout needs one, so no
  // worker takes or claims more (they would only be claimed, found out of time and handed back).
  let outOfTime = false;
  let refilling: Promise<void> | undefined;

  const refill = () => {
    refilling ??= (async () => {
      try {
        if (outOfTime || Date.now() >= deadline) {
          exhausted = true;
          return;
        }
        const claimed = await claimPayouts(db, {
          runId: options.runId,
          owner,
          limit: batchSize,
          actor,
          leaseSeconds: options.leaseSeconds,
        });
        await db.execute(sql`update payout_runs set heartbeat_at = now() where id = ${options.runId}`);
        if (claimed.length === 0) exhausted = true;
        queue.push(...claimed);
        for (const p of claimed) await options.hooks?.fault?.("afterClaim", p.id);
      } finally {
        refilling = undefined;
      }
    })();
    return refilling;
  };

  const worker = async () => {
    for (;;) {
      if (outOfTime) return;
      if (queue.length < concurrency && !exhausted) void refill();
      let next = queue.shift();
      while (!next && !exhausted) {
        await (refilling ?? refill());
        next = queue.shift();
      }
      if (!next) return;
      if (Date.now() >= deadline) {
        // Out of time: what is still queued goes back untouched for the continuation.
        queue.unshift(next);
        exhausted = true;
        return;
      }
      let outcome = await processPayout(ctx, next);
      if (outcome === "not_started") {
        unstarted.push(next.id);
        outOfTime = true;
      }
      if (outcome === "interrupted") {
        await releasePayout(db, next.id, owner, 0);
      } else if (outcome === "deferred") {
        if (next.attempts >= MAX_PAYOUT_ATTEMPTS) {
          const failed = await failClaimed(db, next, "retries_exhausted", `Stripe kept answering with retryable errors over ${next.attempts} attempts`, actor);
          outcome = failed ? "failed" : "lost_lease";
        } else {
          await releasePayout(db, next.id, owner, 5);
        }
      }
      outcomes[outcome]++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  // A claim still in flight when the workers stopped: wait for it, then hand its payouts back too.
  while (refilling) await refilling;
  await releaseUnstarted(db, [...unstarted, ...queue.splice(0).map((p) => p.id)], owner, actor);

  const left = await remainingWork(db, options.runId);
  if (left.planned === 0 && left.processing === 0) {
    const runStatus = await finalizeRunIfDone(db, env, options.runId, actor);
    return { runId: options.runId, state: "done", retryAfterSeconds: 0, outcomes, ...stats, runStatus };
  }
  const retryAfterSeconds =
    left.planned > 0 || left.reclaimable > 0 || !left.nextLeaseExpiry
      ? outcomes.deferred > 0 && Date.now() < deadline ? 5 : 0
      : Math.max(1, Math.ceil((left.nextLeaseExpiry.getTime() - Date.now()) / 1000) + 1);
  const progress = { done: left.done, attempts: left.attempts };
  return { runId: options.runId, state: "more", retryAfterSeconds, outcomes, ...stats, progress };
}
