import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { type Actor, systemActor } from "../actor";
import type { Env } from "../env";
import { errorText, log } from "../observability/log";
import { payoutLeaseSeconds, runStaleAfterSeconds } from "../time";
import { type ClaimedPayout, claimPayouts, releasePayout, releaseUnstarted, remainingWork } from "./claim";
import { finalizeRunIfDone } from "./finish";
import { limitsFromEnv, PAYOUT_CREATION, processLimiter, type StripeRateLimiter } from "../stripe/limiter";
import { type ExecutorHooks, failClaimed, type PayoutGateway, type PayoutOutcome, processPayout } from "./process-payout";

/** A payout whose real Stripe attempts keep meeting retryable errors is failed after this many. */
export const MAX_PAYOUT_ATTEMPTS = 10;

/** Longest a continuation waits before the next slice (and under half the watchdog's staleness). */
const MAX_CONTINUATION_DELAY_SECONDS = 30;

export type ExecuteOptions = {
  runId: string;
  /** Stop claiming new work at this instant (the invocation's time budget). */
  deadline: Date | number;
  /** The continuation chain this slice belongs to; its heartbeat only counts while the chain is current. */
  chainId?: string;
  /** Payouts in flight at once; the limiter, not this, sets the pace. */
  concurrency?: number;
  batchSize?: number;
  hooks?: ExecutorHooks;
  /** Share one limiter across invocations in one process (the bench, the local server). */
  limiter?: StripeRateLimiter;
  actor?: Actor;
  maxRetries?: number;
  leaseSeconds?: number;
  /** How often the slice proves it is alive (`payout_runs.heartbeat_at`). */
  heartbeatMs?: number;
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
  /** A newer chain took the run over while this slice worked: this chain must not continue. */
  superseded?: boolean;
};

/**
 * Payouts for a slice's workers, claimed in batches on demand with one claim in flight at a time.
 * Every turn of `take` either hands out a payout, waits on a real claim (I/O), or ends: a claim that
 * is refused (out of time) or finds nothing marks the queue exhausted, so nothing ever spins.
 */
export class ClaimQueue {
  private readonly items: ClaimedPayout[] = [];
  private claiming: Promise<void> | null = null;
  private exhausted = false;

  /** `claimBatch` answers null when no more may be claimed (out of time, superseded). */
  constructor(
    private readonly claimBatch: () => Promise<ClaimedPayout[] | null>,
    private readonly lowWater: number,
  ) {}

  async take(): Promise<ClaimedPayout | undefined> {
    for (;;) {
      const next = this.items.shift();
      if (next) {
        if (this.items.length < this.lowWater) void this.claim().catch(() => undefined);
        return next;
      }
      if (this.exhausted) return undefined;
      await this.claim();
    }
  }

  /** Stop handing out work; what is still queued is returned by `drain`. */
  close(): void {
    this.exhausted = true;
  }

  /** After the workers stopped: wait for a claim still in flight, then hand back everything unstarted. */
  async drain(): Promise<ClaimedPayout[]> {
    this.exhausted = true;
    await this.claiming?.catch(() => undefined);
    return this.items.splice(0);
  }

  private claim(): Promise<void> {
    if (this.exhausted) return Promise.resolve();
    if (!this.claiming) {
      // `claiming` is cleared by a callback that runs only after this assignment, whether the claim
      // settles at once or later: a synchronously finished claim cannot leave a settled promise behind.
      const claimed = this.claimBatch().then((rows) => {
        if (!rows || rows.length === 0) this.exhausted = true;
        else this.items.push(...rows);
      });
      this.claiming = claimed.finally(() => {
        this.claiming = null;
      });
    }
    return this.claiming;
  }
}

/**
 * Work through a run's planned payouts until none is left for this slice or the deadline passes:
 * workers take payouts from a ClaimQueue refilled by SKIP LOCKED claims, so Stripe calls flow
 * without gaps between batches. A timer keeps the run's heartbeat fresh while the slice lives, so
 * the watchdog can tell a dead invocation from a busy one. Finishes the run when nothing is left.
 */
export async function executePayoutRun(db: Db, env: Env, gateway: PayoutGateway, options: ExecuteOptions): Promise<ExecuteResult> {
  const deadline = typeof options.deadline === "number" ? options.deadline : options.deadline.getTime();
  const owner = `exec:${randomUUID()}`;
  const actor = options.actor ?? systemActor("payout-run");
  const concurrency = options.concurrency ?? 32;
  const batchSize = options.batchSize ?? Math.max(concurrency * 2, 50);
  const leaseSeconds = options.leaseSeconds ?? payoutLeaseSeconds(env);
  const stats = { rateLimited: 0, retries: 0 };
  const outcomes: Record<PayoutOutcome, number> = { in_transit: 0, failed: 0, deferred: 0, lost_lease: 0, not_started: 0, interrupted: 0 };
  const unstarted: string[] = [];
  // The slice's own policy on the one call path: the process's limiter, the slice's deadline (no
  // request starts after it), its retry count, and a tally of retries for the answer.
  const limiter = options.limiter ?? processLimiter(limitsFromEnv(env));
  const sliceGateway = gateway.withPolicy({
    limiter,
    deadline,
    maxRetries: options.maxRetries ?? 5,
    onRetry: (failure) => {
      stats.retries++;
      if (failure.kind === "rate_limited") stats.rateLimited++;
    },
  });
  const ctx = { db, gateway: sliceGateway, actor, owner, hooks: options.hooks };

  // Set when the limiter has no Stripe slot left before the deadline, or a newer chain took over:
  // every payout needs a slot, so no worker takes or claims more.
  let stop = false;
  let superseded = false;

  const heartbeat = async (): Promise<void> => {
    const alive = await queryRows(
      db,
      sql`update payout_runs set heartbeat_at = now()
          where id = ${options.runId} and (${options.chainId ?? null}::text is null or executor_chain = ${options.chainId ?? null})
          returning id`,
    );
    if (alive.length === 0 && options.chainId) {
      superseded = true;
      stop = true;
      queue.close();
    }
  };

  // Payouts this slice claimed, and those it is done with (whatever the outcome).
  let held = 0;
  let finished = 0;
  // The limiter had no payout slot before the deadline at the first claim (its pacing is held back
  // past it, e.g. after 429s): the continuation waits for the slot rather than start at once.
  let noSlotBeforeDeadline = false;
  const queue = new ClaimQueue(async () => {
    if (stop || Date.now() >= deadline) return null;
    // Every payout needs a payout call: claim no more than the limiter can still start before the
    // deadline, less what this slice holds and has not finished (counted as needing one each). A
    // surplus would wait, go back unstarted, and cost the next slice a lookup at Stripe per payout,
    // which at a low payout rate filled whole slices with lookups and left a payout call or two.
    const limit = Math.min(batchSize, limiter.slotsBefore(PAYOUT_CREATION, deadline) - (held - finished));
    if (limit <= 0) {
      if (held === 0) noSlotBeforeDeadline = true;
      return null;
    }
    const claimed = await claimPayouts(db, { runId: options.runId, owner, limit, actor, leaseSeconds });
    held += claimed.length;
    for (const p of claimed) await options.hooks?.fault?.("afterClaim", p.id);
    return claimed;
  }, concurrency);

  const heartbeatMs = options.heartbeatMs ?? Math.min(10_000, Math.max(1_000, Math.floor((deadline - Date.now()) / 5)));
  const timer = setInterval(() => {
    heartbeat().catch((error: Error) => log.warn("payout run heartbeat failed", { runId: options.runId, error: errorText(error) }));
  }, heartbeatMs);
  timer.unref?.();

  const worker = async () => {
    for (;;) {
      if (stop) return;
      const next = await queue.take();
      if (!next) return;
      if (stop || Date.now() >= deadline) {
        // Out of time: this one goes back untouched for the continuation, with the rest of the queue.
        finished++;
        unstarted.push(next.id);
        queue.close();
        return;
      }
      let outcome = await processPayout(ctx, next).finally(() => {
        finished++;
      });
      if (outcome === "not_started" || outcome === "interrupted") {
        // No Stripe slot before the deadline. Being out of time is not an attempt: an untouched
        // payout goes back as planned; one whose call may have reached Stripe is left for the next
        // slice to look up. Either way nobody in this slice claims anything more.
        stop = true;
        queue.close();
      }
      if (outcome === "not_started") unstarted.push(next.id);
      if (outcome === "interrupted") {
        await releasePayout(db, next.id, owner, 0);
      } else if (outcome === "deferred") {
        if (next.attempts >= MAX_PAYOUT_ATTEMPTS) {
          const failed = await failClaimed(db, next, "retries_exhausted", `Stripe kept answering with retryable errors over ${next.attempts} attempts`, actor);
          outcome = failed ? "failed" : "lost_lease";
        } else {
          // Not claimed again in this slice (the claim skips our own leases): the next slice retries it.
          await releasePayout(db, next.id, owner, 5);
        }
      }
      outcomes[outcome]++;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
    const queued = await queue.drain();
    await releaseUnstarted(db, [...unstarted, ...queued.map((p) => p.id)], owner, actor);
  } finally {
    clearInterval(timer);
  }

  if (superseded) {
    return { runId: options.runId, state: "more", retryAfterSeconds: 0, outcomes, ...stats, superseded: true };
  }
  const left = await remainingWork(db, options.runId);
  if (left.planned === 0 && left.processing === 0) {
    const runStatus = await finalizeRunIfDone(db, env, options.runId, actor);
    // Still executing: work arrived after the count above (a payout approved meanwhile), so the
    // chain goes on rather than leave it to the watchdog.
    const state = runStatus === "executing" ? "more" : "done";
    return { runId: options.runId, state, retryAfterSeconds: 0, outcomes, ...stats, runStatus };
  }
  // Planned or reclaimable work goes on at once; work waiting on leases (ours after a retryable
  // error, or another slice's) goes on when the first lease runs out.
  const wait = noSlotBeforeDeadline
    ? Math.max(1, Math.ceil((limiter.nextSlotAt(PAYOUT_CREATION) - Date.now()) / 1000))
    : left.planned > 0 || left.reclaimable > 0 || !left.nextLeaseExpiry
      ? 0
      : Math.max(1, Math.ceil((left.nextLeaseExpiry.getTime() - Date.now()) / 1000));
  // Never so long that the chain's heartbeat goes stale between slices and the watchdog steps in.
  const retryAfterSeconds = Math.min(wait, MAX_CONTINUATION_DELAY_SECONDS, Math.max(1, Math.floor(runStaleAfterSeconds(env) / 2)));
  return { runId: options.runId, state: "more", retryAfterSeconds, outcomes, ...stats };
}
