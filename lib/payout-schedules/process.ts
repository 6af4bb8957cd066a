import { and, eq, sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { billingInvoices, type PayoutSchedule, payoutSchedules, placementInvoices, placements } from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit, recordAudits } from "../audit";
import { fundWaitingPlacementHolds } from "../escrow/holds";
import { postLedgerTransaction } from "../ledger";
import { errorText } from "../observability/log";
import { enqueueOutbox } from "../outbox";
import type { SweepDefinition, SweepStep } from "../sweeps/types";
import {
  claimableScheduleSql,
  MAX_SCHEDULE_RETRIES,
  SCHEDULE_LEASE_MS,
  scheduleBackoffMs,
  workableScheduleSql,
} from "./rules";

export type ScheduleOutcome = "processed" | "failed" | "retrying" | "gone";

/**
 * payout-schedules: pending → processing → processed | failed. Claims are one conditional UPDATE
 * (FOR UPDATE SKIP LOCKED + a lease), so two instances never take the same row; the credit itself
 * has an idempotency key from the schedule id, so even a lease that ran out mid-work credits once.
 */
export function payoutSchedulesSweep(options: { clearingDelayHours: number }): SweepDefinition {
  return {
    name: "payout-schedules",
    async step(db, ctx) {
      const claimed = await claimSchedules(db, ctx.now, ctx.batchSize, options.clearingDelayHours, ctx.actor);
      const step: SweepStep = { claimed: claimed.length, processed: 0, skipped: 0, failed: 0 };
      for (const schedule of claimed) {
        const outcome = await processClaimedSchedule(db, schedule.id, ctx.actor, ctx.now);
        if (outcome === "processed") step.processed++;
        else if (outcome === "gone") step.skipped++;
        else step.failed++;
      }
      return step;
    },
    async remaining(db, ctx) {
      const now = ctx.now.toISOString();
      const [row] = await queryRows<{ n: string | number }>(
        db,
        sql`select count(*) as n from payout_schedules s
            join placements p on p.id = s.placement_id
            join placement_invoices i on i.placement_id = s.placement_id
            where ${claimableScheduleSql(now)} and ${workableScheduleSql(now, options.clearingDelayHours)}`,
      );
      return Number(row?.n ?? 0);
    },
    async waiting(db, ctx) {
      // Due but not collectible yet: reported as skipped, left pending.
      const now = ctx.now.toISOString();
      const [row] = await queryRows<{ n: string | number }>(
        db,
        sql`select count(*) as n from payout_schedules s
            join placements p on p.id = s.placement_id
            left join placement_invoices i on i.placement_id = s.placement_id
            where s.status = 'pending' and s.due_at <= ${now}::timestamptz
              and not coalesce(${workableScheduleSql(now, options.clearingDelayHours)}, false)`,
      );
      return Number(row?.n ?? 0);
    },
  };
}

async function claimSchedules(db: Db, now: Date, limit: number, clearingDelayHours: number, actor: Actor) {
  const nowIso = now.toISOString();
  return db.transaction(async (tx) => {
    const claimed = await tx
      .update(payoutSchedules)
      .set({
        status: "processing",
        leaseExpiresAt: new Date(now.getTime() + SCHEDULE_LEASE_MS),
        updatedAt: now,
      })
      .where(
        sql`${payoutSchedules.id} in (
          select s.id from payout_schedules s
          join placements p on p.id = s.placement_id
          join placement_invoices i on i.placement_id = s.placement_id
          where ${claimableScheduleSql(nowIso)} and ${workableScheduleSql(nowIso, clearingDelayHours)}
          order by s.due_at, s.id limit ${limit}
          for update of s skip locked)`,
      )
      .returning();
    await recordAudits(
      tx,
      claimed.map((after) => ({
        actor,
        action: "payout_schedule.claimed",
        entityType: "payout_schedule",
        entityId: after.id,
        after: { status: after.status, leaseExpiresAt: after.leaseExpiresAt },
        reason: "due and its invoice is collectible (or void)",
      })),
    );
    return claimed;
  });
}

class ScheduleFailure extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/**
 * Work one schedule this caller holds in `processing`: credit the share, fund placement holds that
 * were waiting for it, mark it processed, all in one transaction. On failure, count a retry with
 * back-off, or fail it for good (after MAX_SCHEDULE_RETRIES, or at once for a void invoice) with an
 * alert in the outbox.
 */
export async function processClaimedSchedule(db: Db, scheduleId: string, actor: Actor, now: Date) {
  try {
    return await db.transaction(async (tx): Promise<ScheduleOutcome> => {
      const [schedule] = await tx
        .select()
        .from(payoutSchedules)
        .where(eq(payoutSchedules.id, scheduleId))
        .for("update");
      if (schedule?.status !== "processing") return "gone";
      // Locked: createEscrowHold locks the placement too, so a hold made while this runs either
      // commits first (and fundWaitingPlacementHolds below funds it) or waits and sees "processed"
      // (and is funded at once). Unlocked, it could slip in unfunded after the funding step.
      const [placement] = await tx
        .select()
        .from(placements)
        .where(eq(placements.id, schedule.placementId!))
        .for("update");
      const [invoice] = await tx
        .select()
        .from(placementInvoices)
        .where(eq(placementInvoices.placementId, schedule.placementId!));
      if (!placement || !invoice) throw new ScheduleFailure("placement or invoice missing", false);
      if (invoice.status === "void" || invoice.status === "uncollectible") {
        throw new ScheduleFailure(`invoice is ${invoice.status}: the client will not pay`, true);
      }
      if (schedule.amountCents !== placement.payeeShareCents || schedule.currency !== placement.currency) {
        throw new ScheduleFailure(
          "schedule does not match the placement's share (amount or currency)",
          false,
        );
      }
      const margin = placement.feeCents - placement.payeeShareCents;
      // An invoice whose payment was captured through billing (lib/billing) already has the client's
      // money in client_funds, with its Stripe references on the charge: the share comes from there.
      const [billing] = await tx
        .select({ captured: billingInvoices.capturedCents })
        .from(billingInvoices)
        .where(eq(billingInvoices.placementInvoiceId, invoice.id));
      const viaBilling = (billing?.captured ?? 0) > 0;
      const posted = await postLedgerTransaction(tx, {
        idempotencyKey: `payout_schedule:${schedule.id}`,
        kind: "placement_share",
        description: `share of placement ${placement.id}`,
        currency: schedule.currency,
        payeeId: schedule.payeeId,
        sourceType: "payout_schedule",
        sourceId: schedule.id,
        // The client paid the platform, so the share is on the platform's balance (the payout run
        // transfers it to the connected account first).
        metadata: {
          placement_id: placement.id,
          payout_schedule_id: schedule.id,
          placement_invoice_id: invoice.id,
          stripe_invoice_id: invoice.stripeInvoiceId,
        },
        lines: [
          { kind: viaBilling ? "client_funds" : "stripe_clearing", amount: -placement.feeCents },
          { payeeId: schedule.payeeId, kind: "available", location: "platform", amount: schedule.amountCents },
          ...(margin > 0 ? [{ kind: "fees" as const, amount: margin }] : []),
        ],
        // The client's payment of the invoice, on the platform's balance.
        stripeRefs: !viaBilling && invoice.stripeInvoiceId ? [{ account: "platform", object: invoice.stripeInvoiceId, amount: placement.feeCents }] : [],
      });
      await fundWaitingPlacementHolds(tx, placement.id, actor);
      const [after] = await tx
        .update(payoutSchedules)
        .set({
          status: "processed",
          processedAt: now,
          ledgerTransactionId: posted.transactionId,
          leaseExpiresAt: null,
          failureReason: null,
          nextAttemptAt: null,
          updatedAt: new Date(),
        })
        .where(eq(payoutSchedules.id, schedule.id))
        .returning();
      await recordAudit(tx, {
        actor,
        action: "payout_schedule.processed",
        entityType: "payout_schedule",
        entityId: schedule.id,
        before: schedule,
        after,
        reason: `invoice ${invoice.stripeInvoiceId} paid at ${invoice.paidAt?.toISOString()}`,
      });
      return "processed";
    });
  } catch (error) {
    const permanent = error instanceof ScheduleFailure && error.permanent;
    return recordScheduleFailure(db, scheduleId, actor, now, errorText(error), permanent);
  }
}

async function recordScheduleFailure(
  db: Db,
  scheduleId: string,
  actor: Actor,
  now: Date,
  message: string,
  permanent: boolean,
): Promise<ScheduleOutcome> {
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select()
      .from(payoutSchedules)
      .where(eq(payoutSchedules.id, scheduleId))
      .for("update");
    if (before?.status !== "processing") return "gone";
    const retryCount = before.retryCount + 1;
    const giveUp = permanent || retryCount >= MAX_SCHEDULE_RETRIES;
    const [after] = await tx
      .update(payoutSchedules)
      .set({
        status: giveUp ? "failed" : "pending",
        retryCount,
        lastRetryAt: now,
        failureReason: message.slice(0, 1000),
        nextAttemptAt: giveUp ? null : new Date(now.getTime() + scheduleBackoffMs(retryCount)),
        leaseExpiresAt: null,
        updatedAt: new Date(),
      })
      .where(and(eq(payoutSchedules.id, scheduleId), eq(payoutSchedules.status, "processing")))
      .returning();
    await recordAudit(tx, {
      actor,
      action: giveUp ? "payout_schedule.failed" : "payout_schedule.retry_scheduled",
      entityType: "payout_schedule",
      entityId: scheduleId,
      before,
      after,
      reason: message,
    });
    if (giveUp) await enqueueOutbox(tx, scheduleFailedAlert(after!));
    return giveUp ? "failed" : "retrying";
  });
}

function scheduleFailedAlert(schedule: PayoutSchedule) {
  return {
    type: "alert.payout_schedule_failed",
    destination: "slack" as const,
    aggregateType: "payout_schedule",
    aggregateId: schedule.id,
    dedupeKey: `payout_schedule_failed:${schedule.id}:${schedule.retryCount}`,
    payload: {
      payoutScheduleId: schedule.id,
      placementId: schedule.placementId,
      payeeId: schedule.payeeId,
      amountCents: schedule.amountCents,
      currency: schedule.currency,
      retryCount: schedule.retryCount,
      failureReason: schedule.failureReason,
    },
  };
}
