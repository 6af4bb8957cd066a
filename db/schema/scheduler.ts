import { sql } from "drizzle-orm";
import { bigserial, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, id, tstz } from "./columns";

// The local dispatcher's queue (QSTASH_TOKEN unset): continuations and other internal calls are rows
// here, delivered by a pump in the app process, so a delayed continuation survives a crash of the
// process that asked for it (a setTimeout would not). QStash plays this part in production.
export const localDispatches = pgTable(
  "local_dispatches",
  {
    id: id(),
    // Order of dispatch: calls due at the same moment are delivered first in, first out.
    seq: bigserial({ mode: "number" }).notNull(),
    // The same id dispatched twice is one delivery (QStash's deduplication id).
    dedupeId: text().notNull(),
    // e.g. /internal/payouts/continue
    path: text().notNull(),
    body: jsonb().$type<Record<string, unknown>>().notNull(),
    // Deliveries sharing a key run one at a time (QStash flow control, parallelism 1).
    flowControlKey: text(),
    dueAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    attempts: integer().notNull().default(0),
    maxAttempts: integer().notNull().default(4),
    // Set while a pump delivers it; an expired lease (the pump's process died) makes it due again.
    leaseExpiresAt: tstz(),
    deliveredAt: tstz(),
    // Given up after maxAttempts failed deliveries.
    failedAt: tstz(),
    lastStatus: integer(),
    lastError: text(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("local_dispatches_dedupe_id_key").on(t.dedupeId),
    // the pump: undelivered rows by due time
    index("local_dispatches_due_idx")
      .on(t.dueAt)
      .where(sql`${t.deliveredAt} is null and ${t.failedAt} is null`),
    // the pump's flow control: is a delivery with this key in flight?
    index("local_dispatches_flow_idx")
      .on(t.flowControlKey)
      .where(sql`${t.deliveredAt} is null and ${t.failedAt} is null`),
  ],
);
export type LocalDispatch = typeof localDispatches.$inferSelect;
