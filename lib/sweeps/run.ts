import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { systemActor } from "../actor";
import { log } from "../observability/log";
import type { SweepContext, SweepDefinition, SweepResult, SweepStep } from "./types";

export type RunSweepOptions = {
  now?: Date;
  /** Milliseconds this invocation may spend; defaults to a third of the function's maxDuration. */
  budgetMs?: number;
  batchSize?: number;
  /** Safety net for a step that keeps claiming: at most this many batches per invocation. */
  maxBatches?: number;
};

/** Work claimed rows one at a time, counting each as processed or failed by what `work` answers. */
export async function workEach<T>(step: SweepStep, rows: readonly T[], work: (row: T) => Promise<boolean>): Promise<void> {
  for (const row of rows) {
    if (await work(row)) step.processed++;
    else step.failed++;
  }
}

/**
 * Run a sweep in batches until there is nothing to claim or the time budget is spent. Each step
 * claims its rows atomically (SKIP LOCKED or a conditional UPDATE with a lease), so two instances
 * running at once split the work instead of doing it twice.
 */
export async function runSweep(
  db: Db,
  sweep: SweepDefinition,
  options: RunSweepOptions = {},
): Promise<SweepResult> {
  const startedAt = Date.now();
  const budgetMs = options.budgetMs ?? 100_000;
  const ctx: SweepContext = {
    now: options.now ?? new Date(),
    actor: systemActor(`sweep:${sweep.name}`),
    batchSize: options.batchSize ?? 50,
  };
  const total = { processed: 0, skipped: 0, failed: 0 };
  const maxBatches = options.maxBatches ?? 10_000;
  for (let batch = 0; batch < maxBatches && Date.now() - startedAt < budgetMs; batch++) {
    // Real time moves on between batches; an injected clock (tests) stays where it was put.
    if (!options.now) ctx.now = new Date();
    const step = await sweep.step(db, ctx);
    total.processed += step.processed;
    total.skipped += step.skipped;
    total.failed += step.failed;
    if (step.claimed === 0 || step.claimed < ctx.batchSize) break;
  }
  const remaining = await sweep.remaining(db, ctx);
  const waiting = sweep.waiting ? await sweep.waiting(db, ctx) : 0;
  return { ...total, skipped: total.skipped + waiting, remaining };
}

/**
 * Keep what one invocation of a sweep did (sweep_runs): the failure counts health shows and alerts
 * on (lib/reconciliation/alerts.ts). Never fails the sweep it reports on.
 */
export async function recordSweepRun(db: Db, sweep: string, result: SweepResult): Promise<void> {
  try {
    await db.execute(
      sql`insert into sweep_runs (sweep, processed, failed, remaining) values (${sweep}, ${result.processed}, ${result.failed}, ${result.remaining})`,
    );
  } catch (err) {
    log.warn("could not record a sweep run", { sweep, error: err instanceof Error ? err.message : String(err) });
  }
}
