import { randomUUID } from "node:crypto";
import { and, eq, isNotNull, isNull, type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { afterTableCursor, newestFirst, type PageRequest, toPage, withCursorKey } from "../../db/paging";
import { type Client, clients, type Placement, type UsageRecord, usageRecords } from "../../db/schema";
import type { Env } from "../env";
import { DomainError, notFound } from "../errors";
import type { PlanMap, RecordUsageInput } from "../schemas/billing";
import { planMeters, planOf } from "./plans";

// Usage a client is billed for by meter: from POST /api/v1/usage (idempotent on the caller's
// Idempotency-Key) and from Payrun's own events where the client's plan meters them (a placement
// made: meter "placements"). Each record's meter event identifier is derived from its id, so Stripe
// dedupes a resend (lib/billing/usage-export.ts).

/** The meter Payrun records a placement on, when the client's plan meters it. */
export const PLACEMENTS_METER = "placements";

/** The meter event identifier of a record: derived from its id (Stripe allows 100 characters). */
export const usageIdentifier = (id: string) => `payrun_usage_${id}`;

export type RecordedUsage = { record: UsageRecord; replayed: boolean };

/**
 * One usage record for an active client on a meter its plan has. The same Idempotency-Key with the
 * same fields answers with the first record (replayed); with other fields, a 409.
 */
export async function recordUsage(
  db: Db,
  env: Pick<Env, "billingPlans">,
  params: { input: RecordUsageInput; idempotencyKey: string; now?: Date },
): Promise<RecordedUsage> {
  const { input } = params;
  const [client] = await db.select().from(clients).where(eq(clients.id, input.clientId));
  if (!client) throw new DomainError("invalid_input", "clientId: no such client");
  const occurredAt = input.occurredAt ? new Date(input.occurredAt) : (params.now ?? new Date());
  const same = (r: UsageRecord) =>
    r.meterEventName === input.meter &&
    r.quantity === input.quantity &&
    (!input.occurredAt || r.occurredAt.getTime() === occurredAt.getTime());
  const earlier = await findByKey(db, client.id, params.idempotencyKey);
  if (earlier) return replayOrConflict(earlier, same);
  assertMeterable(env, client, input.meter);
  const id = randomUUID();
  const [row] = await db
    .insert(usageRecords)
    .values({
      id,
      clientId: client.id,
      stripeCustomerId: client.stripeCustomerId!,
      meterEventName: input.meter,
      quantity: input.quantity,
      occurredAt,
      identifier: usageIdentifier(id),
      source: "api",
      requestKey: params.idempotencyKey,
    })
    .onConflictDoNothing({ target: [usageRecords.clientId, usageRecords.requestKey] })
    .returning();
  if (row) return { record: row, replayed: false };
  // Another request with the same key won the race.
  const winner = await findByKey(db, client.id, params.idempotencyKey);
  if (!winner) throw new DomainError("conflict", "a request with this Idempotency-Key is in progress; retry");
  return replayOrConflict(winner, same);
}

function replayOrConflict(record: UsageRecord, same: (r: UsageRecord) => boolean): RecordedUsage {
  if (!same(record))
    throw new DomainError(
      "conflict",
      "this Idempotency-Key was used for other usage; send a new key for new usage",
    );
  return { record, replayed: true };
}

async function findByKey(db: Db, clientId: string, requestKey: string): Promise<UsageRecord | undefined> {
  const [row] = await db
    .select()
    .from(usageRecords)
    .where(and(eq(usageRecords.clientId, clientId), eq(usageRecords.requestKey, requestKey)));
  return row;
}

function assertMeterable(env: Pick<Env, "billingPlans">, client: Client, meter: string): void {
  if (client.status !== "active" || !client.stripeCustomerId)
    throw new DomainError(
      "conflict",
      `client is ${client.status}: usage is recorded only for active clients`,
    );
  const plan = planOf(env, client.plan);
  if (!planMeters(plan, meter))
    throw new DomainError(
      "invalid_input",
      `meter: the ${client.plan} plan does not meter "${meter}"; it meters ${Object.keys(plan.meters).join(", ") || "nothing"}`,
    );
}

/**
 * A placement made for a client whose plan meters placements: one usage record, in the caller's
 * transaction (the placement's). Nothing for a customer that is no client, or a plan without it.
 */
export async function meterPlacement(tx: Db, plans: PlanMap, placement: Placement): Promise<void> {
  const [client] = await tx
    .select()
    .from(clients)
    .where(and(eq(clients.stripeCustomerId, placement.clientStripeCustomerId), eq(clients.status, "active")));
  if (!client) return;
  const plan = Object.hasOwn(plans, client.plan) ? plans[client.plan] : undefined;
  if (!plan || !planMeters(plan, PLACEMENTS_METER)) return;
  const id = randomUUID();
  await tx
    .insert(usageRecords)
    .values({
      id,
      clientId: client.id,
      stripeCustomerId: client.stripeCustomerId!,
      meterEventName: PLACEMENTS_METER,
      quantity: 1,
      occurredAt: placement.createdAt,
      identifier: usageIdentifier(id),
      source: "placement",
      requestKey: `placement:${placement.id}`,
    })
    .onConflictDoNothing({ target: [usageRecords.clientId, usageRecords.requestKey] });
}

export type UsageState = "pending" | "exported" | "failed";

/** Usage newest first (by occurredAt), filtered by client, meter and export state. */
export async function listUsage(
  db: Db,
  params: PageRequest & { clientId?: string; meter?: string; state?: UsageState },
) {
  const where: (SQL | undefined)[] = [afterTableCursor(usageRecords, params.cursor, usageRecords.occurredAt)];
  if (params.clientId) where.push(eq(usageRecords.clientId, params.clientId));
  if (params.meter) where.push(eq(usageRecords.meterEventName, params.meter));
  if (params.state === "exported") where.push(isNotNull(usageRecords.exportedAt));
  if (params.state === "failed")
    where.push(and(isNull(usageRecords.exportedAt), isNotNull(usageRecords.exportFailedAt)));
  if (params.state === "pending")
    where.push(and(isNull(usageRecords.exportedAt), isNull(usageRecords.exportFailedAt)));
  const rows = await db
    .select(withCursorKey(usageRecords, usageRecords.occurredAt))
    .from(usageRecords)
    .where(and(...where))
    .orderBy(...newestFirst(usageRecords, usageRecords.occurredAt))
    .limit(params.limit + 1);
  return toPage(rows, params.limit);
}

export async function getUsage(db: Db, id: string): Promise<UsageRecord> {
  const [row] = await db.select().from(usageRecords).where(eq(usageRecords.id, id));
  if (!row) throw notFound("usage record");
  return row;
}

export type UsageOverviewRow = {
  meter: string;
  pending: number;
  exported: number;
  failed: number;
  pendingQuantity: number;
};

/** Per meter: records still to export, exported and refused by Stripe, for the usage page. */
export async function usageOverview(db: Db): Promise<UsageOverviewRow[]> {
  const rows = await db
    .select({
      meter: usageRecords.meterEventName,
      pending: sql<number>`count(*) filter (where ${usageRecords.exportedAt} is null and ${usageRecords.exportFailedAt} is null)::int`,
      exported: sql<number>`count(${usageRecords.exportedAt})::int`,
      failed: sql<number>`count(*) filter (where ${usageRecords.exportedAt} is null and ${usageRecords.exportFailedAt} is not null)::int`,
      pendingQuantity: sql<string>`coalesce(sum(${usageRecords.quantity}) filter (where ${usageRecords.exportedAt} is null and ${usageRecords.exportFailedAt} is null), 0)::text`,
    })
    .from(usageRecords)
    .groupBy(usageRecords.meterEventName)
    .orderBy(usageRecords.meterEventName);
  return rows.map((r) => ({
    ...r,
    pending: Number(r.pending),
    exported: Number(r.exported),
    failed: Number(r.failed),
    pendingQuantity: Number(r.pendingQuantity),
  }));
}
