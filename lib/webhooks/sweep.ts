import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { systemActor } from "../actor";
import { applyStoredEvent, MAX_APPLY_ATTEMPTS } from "./apply";
import type { HandlerContext } from "./types";

export type ReplaySweepResult = { processed: number; skipped: number; failed: number; remaining: number };

/**
 * The hourly replay sweep: re-apply events that failed, wait for something Payrun did not know yet,
 * were never applied (stored, then the process died: older than a minute so an in-flight delivery is
 * left alone), or were asked for by an admin. Under the attempt cap (failures only), except an event
 * an admin asked for with force (requestReplay records the force in its audit row): the sweep keeps
 * trying it past the cap until it applies. Rows another worker holds are skipped (SKIP LOCKED), so
 * overlapping sweeps never wait on or double-apply an event. Stops at the time budget; `remaining`
 * is what is still eligible and was not reached.
 */
export async function sweepWebhookReplays(
  db: Db,
  options: { env: HandlerContext["env"]; gateway: HandlerContext["gateway"]; timeBudgetMs: number; batchSize?: number },
): Promise<ReplaySweepResult> {
  const started = Date.now();
  const candidates = await queryRows<{ id: string; total: string | number; forced: boolean }>(
    db,
    sql`select e.id, count(*) over () as total, e.attempts >= ${MAX_APPLY_ATTEMPTS} as forced
        from processor_events e
        where e.status in ('failed', 'pending', 'received')
          and (e.status <> 'received' or e.replay_requested or e.received_at < now() - interval '1 minute')
          and (e.attempts < ${MAX_APPLY_ATTEMPTS} or (e.replay_requested and exists (
            select 1 from audit_log a
            where a.entity_type = 'processor_event' and a.entity_id = e.event_id
              and a.action = 'processor_event.replay_requested' and a.after->>'force' = 'true')))
        order by e.received_at, e.id
        limit ${options.batchSize ?? 500}`,
  );
  const total = Number(candidates[0]?.total ?? 0);
  const result: ReplaySweepResult = { processed: 0, skipped: 0, failed: 0, remaining: total };
  const requestedBy = systemActor("webhook_replay_sweep");
  for (const { id, forced } of candidates) {
    if (Date.now() - started > options.timeBudgetMs) break;
    const applied = await applyStoredEvent(db, {
      processorEventId: id,
      trigger: "replay_sweep",
      requestedBy,
      skipLocked: true,
      force: forced,
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
