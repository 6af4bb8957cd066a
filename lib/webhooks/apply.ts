import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { ProcessorEventStatus } from "../../db/schema";
import { type Actor, webhookActor } from "../actor";
import { errorText } from "../observability/log";
import { handlerFor } from "./handlers";
import { insertNewEvent } from "./store";
import type { AttemptTrigger, EventSource, HandlerContext, HandlerOutcome, StripeEvent } from "./types";

/**
 * Past this many failed attempts the sweep leaves an event alone; a forced replay may go on.
 * Only failures count: a "pending" outcome (waiting for something Payrun does not know yet) is
 * recorded as an attempt row but never uses up the budget, so a waiting event keeps being replayed.
 */
export const MAX_APPLY_ATTEMPTS = 5;

/** What applying wrote on the event's row. */
export type AppliedOutcome = { status: "processed" | "ignored" } | { status: "pending"; reason: string };

export type ApplyResult =
  | AppliedOutcome
  /** already applied, or stored as ignored */
  | { status: "duplicate" }
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
      const [row] = await queryRows<{
        status: ProcessorEventStatus;
        attempts: number;
        payload: StripeEvent | null;
      }>(
        tx,
        sql`select status, attempts, ${selectPayload} as payload from processor_events where id = ${id} ${lock}`,
      );
      if (!row) return { status: "locked" };
      if (row.status === "processed" || row.status === "ignored") return { status: "duplicate" };
      if (isReplay(trigger) && !options.force && row.attempts >= MAX_APPLY_ATTEMPTS) {
        return { status: "capped", attempts: row.attempts };
      }
      const event =
        options.event ?? (typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload)!;
      const outcome = await runHandler(tx, event, options, now);
      return recordOutcome(tx, id, outcome, { trigger, requestedBy: options.requestedBy, now });
    });
  } catch (error) {
    const message = errorMessage(error);
    await recordApplyFailure(db, {
      processorEventId: id,
      trigger,
      error: message,
      requestedBy: options.requestedBy,
      now,
    });
    return { status: "failed", error: message };
  }
}

export type NewEventResult =
  | AppliedOutcome
  /** A row with this event id exists (a redelivery, or a concurrent one that committed first): nothing done. */
  | { status: "stored_before" }
  /** The handler (or the insert) threw: all of it, the row included, was rolled back. */
  | { status: "rolled_back"; error: string };

/**
 * The first delivery of an event Payrun handles, in ONE transaction: insert its row, run its
 * handler, mark the outcome, commit (one commit and no row-lock round trip, where storing and then
 * applying take two commits and a SELECT ... FOR UPDATE). Nothing in it is visible to anyone, or
 * acknowledged to Stripe, before the commit, so the event is still stored no later than anything it
 * causes, and a crash leaves both or neither. The row is inserted already marked processed because
 * that is what it says at commit in the common case; another outcome rewrites it before the commit.
 * A concurrent delivery of the same id waits on the fresh row's unique-index entry until this
 * commits, then finds the row (stored_before) and takes the stored path, which answers duplicate.
 */
export async function applyNewEvent(
  db: Db,
  event: StripeEvent,
  options: Pick<ApplyOptions, "trigger" | "env" | "gateway" | "now"> & {
    source: EventSource;
    rawPayload?: string;
  },
): Promise<NewEventResult> {
  const now = options.now ?? new Date();
  try {
    return await db.transaction(async (tx): Promise<NewEventResult> => {
      const id = await insertNewEvent(tx, event, "processed", options);
      if (!id) return { status: "stored_before" };
      const outcome = await runHandler(tx, event, options, now);
      return recordOutcome(tx, id, outcome, { trigger: options.trigger, now, rowSays: "processed" });
    });
  } catch (error) {
    return { status: "rolled_back", error: errorMessage(error) };
  }
}

function runHandler(
  tx: Db,
  event: StripeEvent,
  deps: Pick<HandlerContext, "env" | "gateway">,
  now: Date,
): Promise<HandlerOutcome> {
  const handler = handlerFor(event.type);
  if (!handler) return Promise.resolve({ outcome: "ignored" });
  return handler(tx, { event, actor: webhookActor(event.id), env: deps.env, gateway: deps.gateway, now });
}

/**
 * Write the handler's outcome on the event's row (unless `rowSays` it already) and, except for a
 * webhook's successful delivery (processed_at says it), an attempt row.
 */
async function recordOutcome(
  tx: Db,
  id: string,
  outcome: HandlerOutcome,
  options: { trigger: AttemptTrigger; requestedBy?: Actor; now: Date; rowSays?: ProcessorEventStatus },
): Promise<AppliedOutcome> {
  const { trigger } = options;
  const status: ProcessorEventStatus =
    outcome.outcome === "applied" ? "processed" : outcome.outcome === "ignored" ? "ignored" : "pending";
  const reason = outcome.outcome === "pending" ? outcome.reason : null;
  const done = status !== "pending";
  if (status !== options.rowSays) {
    // A row not applied yet has no processed_at: stored received, failed or pending, or new and pending.
    await tx.execute(sql`
      update processor_events set
        status = ${status},
        processed_at = ${done ? sql`now()` : sql`null`},
        last_error = ${reason},
        replay_requested = ${done ? sql`false` : sql`replay_requested`},
        last_replay_error = ${isReplay(trigger) && !done ? reason : sql`last_replay_error`}
      where id = ${id}`);
  }
  if (trigger !== "webhook" || !done)
    await recordAttempt(tx, id, trigger, status, reason, options.requestedBy, options.now);
  return status === "pending" ? { status, reason: reason! } : { status };
}

/** Applying threw and rolled back: status failed (unless applied meanwhile), attempts + 1, an attempt row. */
export async function recordApplyFailure(
  db: Db,
  options: {
    processorEventId: string;
    trigger: AttemptTrigger;
    error: string;
    requestedBy?: Actor;
    now?: Date;
  },
): Promise<void> {
  const { processorEventId: id, trigger, error } = options;
  await db.transaction(async (tx) => {
    await tx.execute(sql`
      update processor_events set
        status = case when status in ('processed', 'ignored') then status else 'failed' end,
        attempts = attempts + 1,
        last_error = ${error},
        last_replay_error = ${isReplay(trigger) ? error : sql`last_replay_error`}
      where id = ${id}`);
    await recordAttempt(tx, id, trigger, "failed", error, options.requestedBy, options.now ?? new Date());
  });
}

// Stored and shown in the ops console and the replay API: a failed query as its name, not its parameters.
const errorMessage = errorText;

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
