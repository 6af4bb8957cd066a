import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { ProcessorEventStatus } from "../../db/schema";
import { type Actor, webhookActor } from "../actor";
import { handlerFor } from "./handlers";
import type { AttemptTrigger, HandlerContext, HandlerOutcome, StripeEvent } from "./types";

/**
 * Past this many failed attempts the sweep leaves an event alone; a forced replay may go on.
 * Only failures count: a "pending" outcome (waiting for something Payrun does not know yet) is
 * recorded as an attempt row but never uses up the budget, so a waiting event keeps being replayed.
 */
export const MAX_APPLY_ATTEMPTS = 5;

export type ApplyResult =
  | { status: "processed" | "ignored" | "duplicate" }
  | { status: "pending"; reason: string }
  | { status: "failed"; error: string }
  /** another worker holds the row right now (sweeps skip it rather than wait) */
  | { status: "locked" }
  /** attempt cap reached and not forced */
  | { status: "capped"; attempts: number };

export type ApplyOptions = {
  processorEventId: string;
  trigger: AttemptTrigger;
  /** The event as just verified; read from the stored row when absent (replays). */
  event?: StripeEvent;
  /** Who asked (a replay request names the admin); the effects are always audited as the webhook. */
  requestedBy?: Actor;
  env: HandlerContext["env"];
  gateway: HandlerContext["gateway"];
  skipLocked?: boolean;
  force?: boolean;
  now?: Date;
};

const isReplay = (trigger: AttemptTrigger) => trigger === "replay_sweep" || trigger === "replay_request";

/**
 * Apply a stored event: lock its row, check it is not applied yet, run its handler, mark it, all in
 * ONE transaction, so concurrent deliveries apply it once and a crash leaves it applied or not.
 * A handler that throws rolls its effect back; the failure is then recorded (status failed,
 * last_error, attempts + 1, an attempt row) in a second, small transaction.
 */
export async function applyStoredEvent(db: Db, options: ApplyOptions): Promise<ApplyResult> {
  const { processorEventId: id, trigger } = options;
  const now = options.now ?? new Date();
  try {
    return await db.transaction(async (tx): Promise<ApplyResult> => {
      const lock = options.skipLocked ? sql`for update skip locked` : sql`for update`;
      const selectPayload = options.event ? sql`null::jsonb` : sql`payload`;
      const [row] = await queryRows<{ status: ProcessorEventStatus; attempts: number; payload: StripeEvent | null }>(
        tx,
        sql`select status, attempts, ${selectPayload} as payload from processor_events where id = ${id} ${lock}`,
      );
      if (!row) return { status: "locked" };
      if (row.status === "processed" || row.status === "ignored") return { status: "duplicate" };
      if (isReplay(trigger) && !options.force && row.attempts >= MAX_APPLY_ATTEMPTS) {
        return { status: "capped", attempts: row.attempts };
      }
      const event = options.event ?? (typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload)!;
      const handler = handlerFor(event.type);
      const outcome: HandlerOutcome = handler
        ? await handler(tx, { event, actor: webhookActor(event.id), env: options.env, gateway: options.gateway, now })
        : { outcome: "ignored" };

      const status: ProcessorEventStatus =
        outcome.outcome === "applied" ? "processed" : outcome.outcome === "ignored" ? "ignored" : "pending";
      const reason = outcome.outcome === "pending" ? outcome.reason : null;
      const done = status !== "pending";
      await tx.execute(sql`
        update processor_events set
          status = ${status},
          processed_at = ${done ? sql`now()` : sql`processed_at`},
          last_error = ${reason},
          replay_requested = ${done ? sql`false` : sql`replay_requested`},
          last_replay_error = ${isReplay(trigger) && !done ? reason : sql`last_replay_error`}
        where id = ${id}`);
      // The first, successful delivery needs no attempt row (processed_at says it); the rest do.
      if (trigger !== "webhook" || !done) await recordAttempt(tx, id, trigger, status, reason, options.requestedBy, now);
      return status === "pending" ? { status, reason: reason! } : { status };
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await db.transaction(async (tx) => {
      await tx.execute(sql`
        update processor_events set
          status = case when status in ('processed', 'ignored') then status else 'failed' end,
          attempts = attempts + 1,
          last_error = ${message},
          last_replay_error = ${isReplay(trigger) ? message : sql`last_replay_error`}
        where id = ${id}`);
      await recordAttempt(tx, id, trigger, "failed", message, options.requestedBy, now);
    });
    return { status: "failed", error: message };
  }
}

async function recordAttempt(
  tx: Db,
  processorEventId: string,
  trigger: AttemptTrigger,
  outcome: string,
  error: string | null,
  actor: Actor | undefined,
  startedAt: Date,
): Promise<void> {
  await tx.execute(sql`
    insert into processor_event_attempts (processor_event_id, trigger, outcome, error, actor, started_at, finished_at)
    values (${processorEventId}, ${trigger}, ${outcome}, ${error}, ${actor ? `${actor.type}:${actor.id}` : null},
      ${startedAt.toISOString()}::timestamptz, now())`);
}
