import { and, eq, sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { usageExportBatches, usageRecords } from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import { DomainError } from "../errors";
import { errorText } from "../observability/log";
import { exportRange } from "../schemas/billing";
import { OutOfTime } from "../stripe/call";
import { StripeGatewayError } from "../stripe/errors";
import type { StripeGateway } from "../stripe/gateway";

// Usage export to Stripe's billing meters (POST /v1/billing/meter_events), behind two gates: it
// writes only with LIVE=true in the environment AND --confirm; either alone is a dry run that says
// which gate is missing. A dry run counts, per client and meter, what would be sent, and writes
// nothing (no Stripe call, no row marked, no batch).
//
// Exactly once: each record is sent with its own identifier (derived from its id, stored with it)
// and an idempotency key derived from that; Stripe dedupes both, so a record whose answer was lost
// (the export killed half way, a dropped connection) is sent again harmlessly and counted as
// "already at Stripe". Records marked exported are never selected again. A record Stripe refuses
// (its own error for that record, e.g. a timestamp outside its 35 days) is marked failed and the
// export goes on; a failure that is not the record's (Stripe unreachable after the retries, a rate
// limit that does not clear) stops the batch, which ends `failed` and is run again the same way.
//
// Pace: meter events have their own limit (1,000/s live; the gateway's limiter paces it) and Stripe
// takes one call at a time per customer and meter, so each (customer, meter) is a lane sent in
// order, and up to `concurrency` lanes are in flight.

export type ExportGates = {
  /** LIVE=true in the environment. */
  live: boolean;
  /** --confirm on the command line. */
  confirm: boolean;
};

export type ExportProgress = {
  batchId: string;
  total: number;
  done: number;
  sent: number;
  alreadyAtStripe: number;
  failed: number;
};

export type UsageSummaryRow = {
  clientId: string | null;
  stripeCustomerId: string;
  meter: string;
  records: number;
  quantity: number;
};

export type MeterEventPreview = {
  identifier: string;
  eventName: string;
  customer: string;
  value: number;
  timestamp: number;
};

export type DryRunResult = {
  mode: "dry_run";
  /** The gates not given ("LIVE=true", "--confirm"): why this was a dry run. */
  missingGates: string[];
  range: { start: string; end: string };
  summary: UsageSummaryRow[];
  totals: { records: number; quantity: number };
  /** The first meter events that would be sent, as they would be sent. */
  wouldSend: MeterEventPreview[];
  alreadyExported: number;
  previouslyFailed: number;
};

export type LiveResult = {
  mode: "live";
  batchId: string;
  status: "completed" | "completed_with_failures" | "failed" | "interrupted";
  range: { start: string; end: string };
  summary: UsageSummaryRow[];
  total: number;
  sent: number;
  alreadyAtStripe: number;
  failed: number;
  /** Why the batch stopped, when it did. */
  error?: string;
};

export type ExportUsageParams = ExportGates & {
  start: string;
  end: string;
  actor: Actor;
  /** Send records an earlier export marked failed again (after fixing what Stripe refused). */
  retryFailed?: boolean;
  /** Lanes (customer, meter) in flight at once. */
  concurrency?: number;
  /** Records read per page. */
  pageSize?: number;
  /** Called once a live batch exists, before anything is sent. */
  onBatch?: (batchId: string) => void;
  onProgress?: (progress: ExportProgress) => void;
  /** Aborting stops sending: what is in flight finishes and is marked; the batch ends `interrupted`. */
  signal?: AbortSignal;
  /** How many meter events to show in a dry run. */
  previewLimit?: number;
};

type Gateway = Pick<StripeGateway, "createMeterEvent">;

/** The key of the meter event call for a record: derived from its stored identifier. */
export const meterEventIdempotencyKey = (identifier: string) => `usage:${identifier}`;

function rangeOf(params: { start: string; end: string }) {
  const parsed = exportRange.safeParse({ start: params.start, end: params.end });
  if (!parsed.success)
    throw new DomainError(
      "invalid_input",
      parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; "),
    );
  return {
    start: parsed.data.start,
    end: parsed.data.end,
    from: `${parsed.data.start}T00:00:00Z`,
    to: `${parsed.data.end}T00:00:00Z`,
  };
}

/** Records of the range still to send: not exported (and not failed, unless retried). */
function pendingWhere(range: { from: string; to: string }, retryFailed: boolean) {
  return sql`${usageRecords.exportedAt} is null
    and ${usageRecords.occurredAt} >= ${range.from}::timestamptz and ${usageRecords.occurredAt} < ${range.to}::timestamptz
    ${retryFailed ? sql`` : sql`and ${usageRecords.exportFailedAt} is null`}`;
}

async function summarize(
  db: Db,
  range: { from: string; to: string },
  retryFailed: boolean,
): Promise<UsageSummaryRow[]> {
  const rows = await queryRows<{
    client_id: string | null;
    customer: string;
    meter: string;
    records: number;
    quantity: string;
  }>(
    db,
    sql`select client_id, stripe_customer_id as customer, meter_event_name as meter, count(*)::int as records, sum(quantity)::text as quantity
        from usage_records where ${pendingWhere(range, retryFailed)}
        group by client_id, stripe_customer_id, meter_event_name order by stripe_customer_id, meter_event_name`,
  );
  return rows.map((r) => ({
    clientId: r.client_id,
    stripeCustomerId: r.customer,
    meter: r.meter,
    records: r.records,
    quantity: Number(r.quantity),
  }));
}

const previewOf = (r: {
  identifier: string;
  meterEventName: string;
  stripeCustomerId: string;
  quantity: number;
  occurredAt: Date;
}): MeterEventPreview => ({
  identifier: r.identifier,
  eventName: r.meterEventName,
  customer: r.stripeCustomerId,
  value: r.quantity,
  timestamp: Math.floor(r.occurredAt.getTime() / 1000),
});

/** What an export of [start, end) would send (dry run), or sends it (both gates given). */
export async function exportUsage(
  db: Db,
  gateway: Gateway,
  params: ExportUsageParams,
): Promise<DryRunResult | LiveResult> {
  const range = rangeOf(params);
  const retryFailed = params.retryFailed ?? false;
  const summary = await summarize(db, range, retryFailed);
  const missingGates = [...(params.live ? [] : ["LIVE=true"]), ...(params.confirm ? [] : ["--confirm"])];
  if (missingGates.length > 0) {
    const preview = await db
      .select()
      .from(usageRecords)
      .where(pendingWhere(range, retryFailed))
      .orderBy(usageRecords.occurredAt, usageRecords.id)
      .limit(params.previewLimit ?? 10);
    const [counts] = await queryRows<{ exported: number; failed: number }>(
      db,
      sql`select count(*) filter (where exported_at is not null)::int as exported,
                 count(*) filter (where exported_at is null and export_failed_at is not null)::int as failed
          from usage_records where occurred_at >= ${range.from}::timestamptz and occurred_at < ${range.to}::timestamptz`,
    );
    return {
      mode: "dry_run",
      missingGates,
      range: { start: range.start, end: range.end },
      summary,
      totals: {
        records: summary.reduce((n, s) => n + s.records, 0),
        quantity: summary.reduce((n, s) => n + s.quantity, 0),
      },
      wouldSend: preview.map(previewOf),
      alreadyExported: counts?.exported ?? 0,
      previouslyFailed: counts?.failed ?? 0,
    };
  }
  return runLiveExport(db, gateway, params, range, summary, retryFailed);
}

type PendingRecord = {
  id: string;
  identifier: string;
  meterEventName: string;
  stripeCustomerId: string;
  quantity: number;
  occurredAt: Date;
};

async function runLiveExport(
  db: Db,
  gateway: Gateway,
  params: ExportUsageParams,
  range: { start: string; end: string; from: string; to: string },
  summary: UsageSummaryRow[],
  retryFailed: boolean,
): Promise<LiveResult> {
  const total = summary.reduce((n, s) => n + s.records, 0);
  const batchId = await db.transaction(async (tx) => {
    const [batch] = await tx
      .insert(usageExportBatches)
      .values({ actor: params.actor.id, rangeStart: range.start, rangeEnd: range.end, recordsTotal: total })
      .returning({ id: usageExportBatches.id });
    await recordAudit(tx, {
      actor: params.actor,
      action: "usage_export.started",
      entityType: "usage_export_batch",
      entityId: batch!.id,
      after: { range: { start: range.start, end: range.end }, records: total, retryFailed },
    });
    return batch!.id;
  });
  params.onBatch?.(batchId);

  const counts = { sent: 0, alreadyAtStripe: 0, failed: 0 };
  let stopError: string | undefined;
  let interrupted = false;
  const progress = () =>
    params.onProgress?.({
      batchId,
      total,
      done: counts.sent + counts.alreadyAtStripe + counts.failed,
      ...counts,
    });

  // Marks are written in groups (one statement per group), so 1,000 records a second cost a few
  // statements, not 1,000. A record sent whose mark is not written yet is sent again by the next
  // export, with the same identifier: Stripe keeps one.
  const exported: string[] = [];
  const failures: Array<{ id: string; error: string }> = [];
  let flushing: Promise<void> = Promise.resolve();
  const flush = () => {
    const ids = exported.splice(0);
    const failed = failures.splice(0);
    const snapshot = { ...counts };
    flushing = flushing
      .then(async () => {
        if (ids.length > 0)
          await db.execute(sql`update usage_records set exported_at = now(), export_error = null
                             where id = any(${sql.raw(`'{${ids.join(",")}}'`)}::uuid[]) and exported_at is null`);
        for (const f of failed)
          await db
            .update(usageRecords)
            .set({ exportFailedAt: new Date(), exportError: f.error })
            .where(and(eq(usageRecords.id, f.id), sql`${usageRecords.exportedAt} is null`));
        await db
          .update(usageExportBatches)
          .set({
            recordsSent: snapshot.sent,
            recordsAlreadyAtStripe: snapshot.alreadyAtStripe,
            recordsFailed: snapshot.failed,
          })
          .where(eq(usageExportBatches.id, batchId));
        progress();
      })
      .catch((error: unknown) => {
        // The marks are lost, not the events: the next export sends these again and Stripe keeps one.
        stopError ??= errorText(error);
      });
    return flushing;
  };
  const flushTimer = setInterval(() => void flush(), 250);

  const pageSize = params.pageSize ?? 2000;
  const concurrency = Math.max(1, params.concurrency ?? 256);
  const lanes = new Map<string, PendingRecord[]>();
  const ready: string[] = []; // lanes with records and nobody sending on them
  let queued = 0;
  let cursor: { at: Date; id: string } | undefined;
  let exhausted = false;
  let fetching: Promise<void> | undefined;

  const fetchPage = async () => {
    const rows = await db
      .select({
        id: usageRecords.id,
        identifier: usageRecords.identifier,
        meterEventName: usageRecords.meterEventName,
        stripeCustomerId: usageRecords.stripeCustomerId,
        quantity: usageRecords.quantity,
        occurredAt: usageRecords.occurredAt,
      })
      .from(usageRecords)
      .where(
        and(
          pendingWhere(range, retryFailed),
          cursor
            ? sql`(${usageRecords.occurredAt}, ${usageRecords.id}) > (${cursor.at.toISOString()}::timestamptz, ${cursor.id}::uuid)`
            : undefined,
        ),
      )
      .orderBy(usageRecords.occurredAt, usageRecords.id)
      .limit(pageSize);
    if (rows.length < pageSize) exhausted = true;
    const last = rows.at(-1);
    if (last) cursor = { at: last.occurredAt, id: last.id };
    if (rows.length === 0) return;
    // Who sent it, and when, is stored before the call.
    await db.execute(sql`update usage_records set export_batch_id = ${batchId}::uuid, export_attempted_at = now()
                         where id = any(${sql.raw(`'{${rows.map((r) => r.id).join(",")}}'`)}::uuid[])`);
    for (const row of rows) {
      const key = `${row.stripeCustomerId} ${row.meterEventName}`;
      let lane = lanes.get(key);
      if (!lane) {
        lane = [];
        lanes.set(key, lane);
      }
      if (lane.length === 0 && !busy.has(key)) ready.push(key);
      lane.push(row);
      queued++;
    }
  };
  const busy = new Set<string>();
  const refill = () => {
    if (!fetching && !exhausted && queued < pageSize && !stopError && !interrupted)
      fetching = fetchPage().finally(() => {
        fetching = undefined;
      });
    return fetching;
  };

  const send = async (record: PendingRecord) => {
    try {
      await gateway.createMeterEvent({
        eventName: record.meterEventName,
        customer: record.stripeCustomerId,
        value: record.quantity,
        identifier: record.identifier,
        timestamp: Math.floor(record.occurredAt.getTime() / 1000),
        idempotencyKey: meterEventIdempotencyKey(record.identifier),
      });
      counts.sent++;
      exported.push(record.id);
    } catch (error) {
      if (error instanceof StripeGatewayError && !error.retryable) {
        if (error.code === "resource_already_exists") {
          // An earlier export sent it and lost the answer: Stripe has it once.
          counts.alreadyAtStripe++;
          exported.push(record.id);
        } else if (
          error.kind === "invalid_request" ||
          error.kind === "permission" ||
          error.kind === "idempotency"
        ) {
          counts.failed++;
          failures.push({
            id: record.id,
            error: `${error.code ?? error.kind}: ${error.classified.message}`.slice(0, 500),
          });
        } else stopError ??= errorText(error);
      } else if (error instanceof StripeGatewayError || error instanceof OutOfTime)
        stopError ??= errorText(error);
      else throw error;
    }
  };

  const worker = async () => {
    for (;;) {
      if (stopError || interrupted) return;
      if (params.signal?.aborted) {
        interrupted = true;
        return;
      }
      const key = ready.shift();
      if (key === undefined) {
        if (exhausted && !fetching && queued === 0) return;
        const pending = refill();
        if (pending) await pending;
        else await new Promise((resolve) => setTimeout(resolve, 2));
        continue;
      }
      const lane = lanes.get(key)!;
      const record = lane.shift()!;
      queued--;
      busy.add(key);
      void refill();
      await send(record);
      busy.delete(key);
      if (lane.length > 0) ready.push(key);
      else lanes.delete(key);
    }
  };

  let thrown: unknown;
  try {
    await refill();
    await Promise.all(Array.from({ length: concurrency }, worker));
    if (fetching) await fetching;
  } catch (error) {
    thrown = error;
    stopError ??= errorText(error);
  } finally {
    clearInterval(flushTimer);
    await flush();
  }
  const status: LiveResult["status"] = stopError
    ? "failed"
    : interrupted
      ? "interrupted"
      : counts.failed > 0
        ? "completed_with_failures"
        : "completed";
  await db.transaction(async (tx) => {
    await tx
      .update(usageExportBatches)
      .set({
        status,
        finishedAt: new Date(),
        lastError: stopError ?? null,
        recordsSent: counts.sent,
        recordsAlreadyAtStripe: counts.alreadyAtStripe,
        recordsFailed: counts.failed,
      })
      .where(eq(usageExportBatches.id, batchId));
    await recordAudit(tx, {
      actor: params.actor,
      action: "usage_export.finished",
      entityType: "usage_export_batch",
      entityId: batchId,
      after: { status, total, ...counts, error: stopError ?? null },
    });
  });
  if (thrown && !(thrown instanceof StripeGatewayError)) throw thrown;
  return {
    mode: "live",
    batchId,
    status,
    range: { start: range.start, end: range.end },
    summary,
    total,
    ...counts,
    ...(stopError ? { error: stopError } : {}),
  };
}

/** Batches newest first, for the ops page. */
export async function recentExportBatches(db: Db, limit = 20) {
  return db
    .select()
    .from(usageExportBatches)
    .orderBy(sql`${usageExportBatches.startedAt} desc, ${usageExportBatches.id} desc`)
    .limit(limit);
}
