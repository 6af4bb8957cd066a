import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { escrowHolds, outboxEvents, payoutSchedules, placementInvoices, placements } from "@/db/schema";
import { createEscrowHold } from "@/lib/escrow/holds";
import { escrowReleasesSweep } from "@/lib/escrow/release-sweep";
import { loadEnv } from "@/lib/env";
import { payeeBalances, platformBalances, unbalancedTransactions } from "@/lib/ledger";
import { triggerPayoutSchedule } from "@/lib/payout-schedules/admin";
import { payoutSchedulesSweep } from "@/lib/payout-schedules/process";
import { completeExpiredGuarantees } from "@/lib/placements/complete-guarantees";
import { createPlacementInvoicesSweep } from "@/lib/placements/create-invoices";
import { finalizePlacementInvoicesSweep } from "@/lib/placements/finalize-invoices";
import { runSweep } from "@/lib/sweeps/run";
import { ingestStripeEvent, type StripeEvent } from "@/lib/webhooks";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { admin, count, DAY_MS, makeCustomer, makeExpiredPlacement, makePayee } from "../sweeps/helpers";

// A placement from start date to money in the payee's available balance, through every sweep, the
// Stripe simulator and the webhook engineer's invoice.paid handler.

let t: TestDb;
let stripe: TestStripe;
let customer: string;
const CLEARING_HOURS = 24;
const schedulesSweep = payoutSchedulesSweep({ clearingDelayHours: CLEARING_HOURS });

beforeAll(async () => {
  [t, stripe] = await Promise.all([createTestDb(), startTestStripe()]);
  customer = await makeCustomer(stripe);
});
afterAll(async () => {
  await stripe?.close();
  await t?.close();
});

/** Deliver the simulator's invoice.* events through the webhook intake (as Stripe would). */
async function deliverInvoiceEvents() {
  const events = await stripe.gateway.listEvents({
    types: ["invoice.finalized", "invoice.paid"],
    limit: 100,
  });
  for (const event of [...events.data].reverse()) {
    await ingestStripeEvent(t.db, event as unknown as StripeEvent, {
      env: loadEnv(),
      gateway: () => stripe.gateway as never,
      source: "events_api_backfill",
      trigger: "backfill",
    });
  }
}

describe("a placement end to end", () => {
  it("runs from guarantee expiry to invoice, payment, credit and escrow release", async () => {
    const payee = await makePayee(t.db);
    const placement = await makeExpiredPlacement(t.db, { payeeId: payee.id, customer });
    const [schedule] = await t.db
      .select()
      .from(payoutSchedules)
      .where(eq(payoutSchedules.placementId, placement.id));
    expect(schedule).toMatchObject({ status: "pending", amountCents: 15_000 });
    expect(schedule!.dueAt.toISOString()).toBe(placement.guaranteeExpiresAt!.toISOString());

    // Escrow on the placement before its share is credited: waits unfunded, never payable.
    const hold = await createEscrowHold(t.db, {
      placementId: placement.id,
      amountCents: 5_000,
      reason: "client asked for a 60-day replacement window",
      releaseAt: new Date(Date.now() + 10 * DAY_MS),
      actor: admin,
    });
    expect(hold.holdLedgerTransactionId).toBeNull();

    const now = new Date();
    expect(await runSweep(t.db, completeExpiredGuarantees, { now })).toEqual({
      processed: 1,
      skipped: 0,
      failed: 0,
      remaining: 0,
    });
    expect((await runSweep(t.db, completeExpiredGuarantees, { now })).processed).toBe(0);
    const [completed] = await t.db.select().from(placements).where(eq(placements.id, placement.id));
    expect(completed!.status).toBe("guarantee_completed");
    const events = await t.db.select().from(outboxEvents).where(eq(outboxEvents.aggregateId, placement.id));
    expect(events).toHaveLength(1);
    expect(events[0]!.payload).toMatchObject({ oldStatus: "active", newStatus: "guarantee_completed" });

    // Not invoiced yet: nothing collectible, the schedule waits (skipped, not failed).
    expect(await runSweep(t.db, schedulesSweep, { now })).toMatchObject({
      processed: 0,
      failed: 0,
      skipped: 1,
    });

    const create = createPlacementInvoicesSweep(stripe.gateway);
    expect((await runSweep(t.db, create, { now })).processed).toBe(1);
    expect((await runSweep(t.db, create, { now })).processed).toBe(0);
    const [draft] = await t.db
      .select()
      .from(placementInvoices)
      .where(eq(placementInvoices.placementId, placement.id));
    expect(draft).toMatchObject({
      status: "draft",
      amountCents: 20_000,
      idempotencyKey: `placement_invoice:${draft!.id}`,
    });
    const stripeDraft = await stripe.gateway.retrieveInvoice(draft!.stripeInvoiceId!);
    expect(stripeDraft).toMatchObject({ status: "draft", collection_method: "send_invoice", total: 20_000 });

    const finalize = finalizePlacementInvoicesSweep(stripe.gateway);
    expect((await runSweep(t.db, finalize, { now })).processed).toBe(1);
    const [open] = await t.db.select().from(placementInvoices).where(eq(placementInvoices.id, draft!.id));
    expect(open!.status).toBe("open");
    expect((await stripe.gateway.retrieveInvoice(draft!.stripeInvoiceId!)).status).toBe("open");

    // Open but unpaid: still nothing, even long after.
    const later = new Date(now.getTime() + 90 * DAY_MS);
    expect(await runSweep(t.db, schedulesSweep, { now: later })).toMatchObject({
      processed: 0,
      failed: 0,
      skipped: 1,
    });
    expect(await payeeBalances(t.db, payee.id)).toEqual({});

    // The client pays; invoice.paid arrives through the webhook intake.
    await stripe.gateway.payInvoice(draft!.stripeInvoiceId!, `test-pay-${draft!.id}`);
    await deliverInvoiceEvents();
    const [paid] = await t.db.select().from(placementInvoices).where(eq(placementInvoices.id, draft!.id));
    expect(paid!.status).toBe("paid");
    expect(paid!.paidAt).not.toBeNull();

    // Paid, but inside the clearing delay: still pending.
    const justPaid = new Date(paid!.paidAt!.getTime() + (CLEARING_HOURS - 1) * 3600_000);
    expect(await runSweep(t.db, schedulesSweep, { now: justPaid })).toMatchObject({
      processed: 0,
      skipped: 1,
    });

    const cleared = new Date(paid!.paidAt!.getTime() + (CLEARING_HOURS + 1) * 3600_000);
    expect(await runSweep(t.db, schedulesSweep, { now: cleared })).toMatchObject({
      processed: 1,
      failed: 0,
      remaining: 0,
    });
    expect((await runSweep(t.db, schedulesSweep, { now: cleared })).processed).toBe(0);
    const [processed] = await t.db.select().from(payoutSchedules).where(eq(payoutSchedules.id, schedule!.id));
    expect(processed).toMatchObject({ status: "processed", retryCount: 0 });

    // Share credited, the placement hold funded in the same transaction: 15,000 - 5,000 payable.
    expect((await payeeBalances(t.db, payee.id)).usd).toMatchObject({ available: 10_000, held: 5_000 });
    expect((await platformBalances(t.db, "fees")).usd).toBe(5_000);
    // The client paid the platform: the share is on the platform's balance (a typed location).
    const [credit] = await queryRows<{ metadata: Record<string, unknown>; location: string }>(
      t.db,
      sql`select t.metadata, a.location from ledger_transactions t
          join ledger_entries e on e.transaction_id = t.id join ledger_accounts a on a.id = e.account_id and a.kind = 'available'
          where t.idempotency_key = ${`payout_schedule:${schedule!.id}`}`,
    );
    expect(credit!.location).toBe("platform");
    expect(credit!.metadata).toMatchObject({ placement_id: placement.id });

    // Release date not reached: held stays held.
    expect((await runSweep(t.db, escrowReleasesSweep, { now: cleared })).processed).toBe(0);
    const releaseDay = new Date(Date.now() + 11 * DAY_MS);
    expect(await runSweep(t.db, escrowReleasesSweep, { now: releaseDay })).toEqual({
      processed: 1,
      skipped: 0,
      failed: 0,
      remaining: 0,
    });
    const [released] = await t.db.select().from(escrowHolds).where(eq(escrowHolds.id, hold.id));
    expect(released!.status).toBe("released");
    expect((await payeeBalances(t.db, payee.id)).usd).toMatchObject({ available: 15_000, held: 0 });
    expect(await unbalancedTransactions(t.db)).toEqual([]);

    // Every state change left an audit row.
    const actions = await queryRows<{ action: string }>(
      t.db,
      sql`select distinct action from audit_log order by action`,
    );
    expect(actions.map((a) => a.action)).toEqual(
      expect.arrayContaining([
        "placement.created",
        "placement.guarantee_completed",
        "placement_invoice.created",
        "placement_invoice.drafted",
        "placement_invoice.finalized",
        "payout_schedule.created",
        "payout_schedule.claimed",
        "payout_schedule.processed",
        "escrow_hold.created",
        "escrow_hold.funded",
        "escrow_hold.released",
      ]),
    );
    expect(
      stripe.simulator.requests().filter((r) => r.method === "POST" && r.path === "/v1/invoices"),
    ).toHaveLength(1);
  });

  it("an unpaid invoice never releases money, not even on a manual trigger", async () => {
    const payee = await makePayee(t.db, "Unpaid Ursula");
    const placement = await makeExpiredPlacement(t.db, { payeeId: payee.id, customer });
    const now = new Date();
    await runSweep(t.db, completeExpiredGuarantees, { now });
    await runSweep(t.db, createPlacementInvoicesSweep(stripe.gateway), { now });
    await runSweep(t.db, finalizePlacementInvoicesSweep(stripe.gateway), { now });
    const far = new Date(now.getTime() + 365 * DAY_MS);
    expect((await runSweep(t.db, schedulesSweep, { now: far })).processed).toBe(0);
    const [schedule] = await t.db
      .select()
      .from(payoutSchedules)
      .where(eq(payoutSchedules.placementId, placement.id));
    const result = await triggerPayoutSchedule(t.db, {
      id: schedule!.id,
      actor: admin,
      now: far,
      clearingDelayHours: CLEARING_HOURS,
    });
    expect(result.outcome).toBe("not_collectible");
    expect(result.schedule).toMatchObject({ status: "pending", retryCount: 0 });
    expect(await payeeBalances(t.db, payee.id)).toEqual({});
    expect(
      await count(t.db, sql`select count(*) as n from ledger_transactions where payee_id = ${payee.id}`),
    ).toBe(0);
    const [row] = await t.db
      .select()
      .from(placementInvoices)
      .where(and(eq(placementInvoices.placementId, placement.id)));
    expect(row!.status).toBe("open");
  });
});
