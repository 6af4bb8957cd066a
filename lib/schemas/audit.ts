import { z } from "zod";
import { isoDateTime } from "./common";

export const auditQuery = z
  .object({
    entityType: z.string().trim().min(1).max(100).optional(),
    entityId: z.string().trim().min(1).max(200).optional(),
    actorId: z.string().trim().min(1).max(200).optional(),
    action: z.string().trim().min(1).max(200).optional(),
    from: isoDateTime.optional(),
    to: isoDateTime.optional(),
    // the audit log is keyed by a growing integer id, so the cursor is that id
    cursor: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  // Parsed straight into what lib/audit.ts queryAudit takes, so the API and the ops page map it once.
  .transform(({ cursor, from, to, ...rest }) => ({
    ...rest,
    before: cursor,
    from: from ? new Date(from) : undefined,
    to: to ? new Date(to) : undefined,
  }));

export const auditEntryResponse = z.object({
  id: z.preprocess((v) => (typeof v === "string" ? Number(v) : v), z.number().int()),
  occurredAt: z.preprocess((v) => (v instanceof Date ? v.toISOString() : v), z.string()),
  actorType: z.string(),
  actorId: z.string(),
  actorRole: z.string().nullable(),
  action: z.string(),
  entityType: z.string(),
  entityId: z.string(),
  before: z.unknown().nullable(),
  after: z.unknown().nullable(),
  reason: z.string().nullable(),
  requestId: z.string().nullable(),
});

export const auditPageResponse = z.object({
  data: z.array(auditEntryResponse),
  nextCursor: z.number().nullable(),
});
