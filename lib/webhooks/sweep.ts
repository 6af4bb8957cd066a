import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { systemActor } from "../actor";
import { applyStoredEvent, MAX_APPLY_ATTEMPTS } from "./apply";
import type { HandlerContext } from "./types";

export type ReplaySweepResult = { processed: number; skipped: number; failed: number; remaining: number };

/**
 * The hourly replay sweep: re-apply events that failed, wait for something Payrun did not know yet,
 * were never applied (stored, then the process died: older than a minute so an in-flight delivery is
 * left alone), or were asked for by an admin, all under the attempt cap. Rows another worker holds are
 * skipped (SKIP LOCKED), so overlapping sweeps never wait on or double-apply an event. Stops at the
 * time budget; `remaining` is what is still eligible and was not reached.
 */
export async function sweepWebhookReplays(
  db: Db,
  options: { env: HandlerContext["env"]; gateway: HandlerContext["gateway"]; timeBudgetMs: number; batchSize?: number },
): Promise<ReplaySweepResult> {
  const started = Date.now();
  const candidates = await queryRows<{ id: string; total: string | number }>(
    db,
    sql`select id, count(*) over () as total from processor_events
        where status in ('failed', 'pending', 'received') and attempts < ${MAX_APPLY_ATTEMPTS}
          and (status <> 'received' or replay_requested or received_at < now() - interval '1 minute')
        order by received_at, id
        limit ${options.batchSize ?? 500}`,
  );
  const total = Number(candidates[0]?.total ?? 0);
  const result: ReplaySweepResult = { processed: 0, skipped: 0, failed: 0, remaining: total };
  const requestedBy = systemActor("webhook_replay_sweep");
  for (const { id } of candidates) {
    if (Date.now() - started > options.timeBudgetMs) break;
    const applied = await applyStoredEvent(db, {
      processorEventId: id,
      trigger: "replay_sweep",
      requestedBy,
      skipLocked: true,
      env: options.env,
      gateway: options.gateway,
    });
    result.remaining--;
    if (applied.status === "processed" || applied.status === "ignored") result.processed++;
    else if (applied.status === "failed") result.failed++;
    else result.skipped++;
  }
  return result;
}
