import { z } from "zod";
import { processorEventStatuses } from "../../db/schema/events";
import { isoDateTime, nullableTimestampOut, paginationQuery, timestampOut } from "../schemas/common";

// Request and response shapes of /api/v1/billing/replays (no server imports: the dashboard reuses them).

export const replayListQuery = paginationQuery.extend({
  type: z.string().min(1).max(255).optional(),
  status: z.enum(processorEventStatuses).optional(),
  from: isoDateTime.optional(),
  to: isoDateTime.optional(),
});
export type ReplayListQuery = z.infer<typeof replayListQuery>;

export const replayRequestBody = z.strictObject({ force: z.boolean().default(false) });

export const replayEventOut = z.object({
  eventId: z.string(),
  type: z.string(),
  status: z.enum(processorEventStatuses),
  account: z.string().nullable(),
  livemode: z.boolean(),
  attempts: z.number().int(),
  replayRequested: z.boolean(),
  lastError: z.string().nullable(),
  lastReplayError: z.string().nullable(),
  source: z.string(),
  eventCreatedAt: nullableTimestampOut,
  receivedAt: timestampOut,
  processedAt: nullableTimestampOut,
});

export const replayAttemptOut = z.object({
  trigger: z.string(),
  outcome: z.string(),
  error: z.string().nullable(),
  actor: z.string().nullable(),
  startedAt: timestampOut,
  finishedAt: nullableTimestampOut,
});

export const replayDetailOut = replayEventOut.extend({
  payload: z.unknown(),
  attemptCap: z.number().int(),
  attemptLog: z.array(replayAttemptOut),
});
