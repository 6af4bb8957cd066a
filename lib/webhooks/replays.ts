import { and, asc, eq, gte, inArray, lte, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { type ProcessorEvent, processorEventAttempts, processorEvents } from "../../db/schema";
import type { Actor } from "../actor";
import { DomainError, notFound } from "../errors";
import { recordAudit } from "../audit";
import { afterTableCursor, newestFirst, toPage, withCursorKey } from "../../db/paging";
import { type ApplyResult, applyStoredEvent, MAX_APPLY_ATTEMPTS } from "./apply";
import { type ReplayListQuery, replayDetailOut, replayEventOut } from "./replay-schemas";
import type { HandlerContext } from "./types";

/** Without a status filter the list shows what needs attention: failed, waiting, or never applied. */
const NEEDS_ATTENTION = ["failed", "pending", "received"] as const;

const toOut = (row: ProcessorEvent) => replayEventOut.parse(row);

/** Stored events, newest first, filtered by type, status and received time; keyset-paginated. */
export async function listReplayEvents(db: Db, query: ReplayListQuery) {
  const where: SQL[] = [];
  where.push(query.status ? eq(processorEvents.status, query.status) : inArray(processorEvents.status, [...NEEDS_ATTENTION]));
  if (query.type) where.push(eq(processorEvents.type, query.type));
  if (query.from) where.push(gte(processorEvents.receivedAt, new Date(query.from)));
  if (query.to) where.push(lte(processorEvents.receivedAt, new Date(query.to)));
  const after = afterTableCursor(processorEvents, query.cursor, processorEvents.receivedAt);
  if (after) where.push(after);
  const rows = await db
    .select(withCursorKey(processorEvents, processorEvents.receivedAt))
    .from(processorEvents)
    .where(and(...where))
    .orderBy(...newestFirst(processorEvents, processorEvents.receivedAt))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  return { data: page.data.map(toOut), nextCursor: page.nextCursor };
}

async function findByEventId(db: Db, eventId: string): Promise<ProcessorEvent> {
  const [row] = await db
    .select()
    .from(processorEvents)
    .where(and(eq(processorEvents.provider, "stripe"), eq(processorEvents.eventId, eventId)));
  if (!row) throw notFound(`event ${eventId}`);
  return row;
}

/** One stored event with its payload and every attempt to apply it. */
export async function getReplayEvent(db: Db, eventId: string) {
  const row = await findByEventId(db, eventId);
  const attempts = await db
    .select()
    .from(processorEventAttempts)
    .where(eq(processorEventAttempts.processorEventId, row.id))
    .orderBy(asc(processorEventAttempts.startedAt), asc(processorEventAttempts.id));
  return replayDetailOut.parse({ ...row, attemptCap: MAX_APPLY_ATTEMPTS, attemptLog: attempts });
}

/**
 * An admin asks for an event to be applied again now. Refused for an event already applied, and past
 * the attempt cap unless forced. The request is recorded (replay_requested, audit) before the attempt,
 * so if it fails the flag stays set, last_replay_error says why, and the hourly sweep tries again.
 */
export async function requestReplay(
  db: Db,
  eventId: string,
  options: { force: boolean; actor: Actor; env: HandlerContext["env"]; gateway: HandlerContext["gateway"] },
): Promise<{ result: ApplyResult; event: ReturnType<typeof toOut> }> {
  const row = await findByEventId(db, eventId);
  if (row.status === "processed" || row.status === "ignored") {
    throw new DomainError("conflict", `event ${eventId} is already ${row.status}; there is nothing to replay`);
  }
  if (row.attempts >= MAX_APPLY_ATTEMPTS && !options.force) {
    throw new DomainError(
      "conflict",
      `event ${eventId} reached the attempt cap (${row.attempts}/${MAX_APPLY_ATTEMPTS}); send {"force": true} to replay it anyway`,
      { attempts: row.attempts, attemptCap: MAX_APPLY_ATTEMPTS },
    );
  }
  await db.transaction(async (tx) => {
    await tx.update(processorEvents).set({ replayRequested: true }).where(eq(processorEvents.id, row.id));
    await recordAudit(tx, {
      actor: options.actor,
      action: "processor_event.replay_requested",
      entityType: "processor_event",
      entityId: eventId,
      before: { status: row.status, attempts: row.attempts },
      after: { replayRequested: true, force: options.force },
    });
  });
  const result = await applyStoredEvent(db, {
    processorEventId: row.id,
    trigger: "replay_request",
    requestedBy: options.actor,
    force: options.force,
    env: options.env,
    gateway: options.gateway,
  });
  const [after] = await db.select().from(processorEvents).where(eq(processorEvents.id, row.id));
  return { result, event: toOut(after!) };
}

