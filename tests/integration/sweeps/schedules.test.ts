import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { outboxEvents, payoutSchedules, placementInvoices, placements } from "@/db/schema";
import { payeeBalances } from "@/lib/ledger";
import { payoutSchedulesSweep } from "@/lib/payout-schedules/process";
import { MAX_SCHEDULE_RETRIES, scheduleBackoffMs } from "@/lib/payout-schedules/rules";
import { completeExpiredGuarantees } from "@/lib/placements/complete-guarantees";
import { runSweep } from "@/lib/sweeps/run";
import { createTestDb, type TestDb } from "../../support/db";
import { DAY_MS, makeExpiredPlacement, makePayee } from "./helpers";

// The payout-schedules state machine without Stripe: the invoice row is set the way the invoice.paid
// webhook leaves it.

let t: TestDb;
const sweep = payoutSchedulesSweep({ clearingDelayHours: 0 });

beforeAll(async () => {
  t = await createTestDb();
});
afterAll(() => t.close());

async function paidPlacement(name: string) {
  const payee = await makePayee(t.db, name);
  const placement = await makeExpiredPlacement(t.db, { payeeId: payee.id, customer: "cus_test123" });
  await runSweep(t.db, completeExpiredGuarantees);
  await t.db.insert(placementInvoices).values({
    placementId: placement.id,
    amountCents: placement.feeCents,
    currency: "usd",
    status: "paid",
    idempotencyKey: `placement_invoice:test-${placement.id}`,
    stripeInvoiceId: `in_test_${placement.id.slice(0, 8)}`,
    paidAt: new Date(Date.now() - DAY_MS),
  });
  const [schedule] = await t.db
    .select()
    .from(payoutSchedules)
    .where(eq(payoutSchedules.placementId, placement.id));
  return { payee, placement, schedule: schedule! };
}

const reload = async (id: string) =>
  (await t.db.select().from(payoutSchedules).where(eq(payoutSchedules.id, id)))[0]!;

describe("payout-schedules retries", () => {
  it("retries a real failure with back-off and stops at 3, with one alert", async () => {
    const { payee, schedule } = await paidPlacement("Broken Bob");
    // A schedule that no longer matches its placement's share is a real failure, not a wait.
    await t.db
      .update(payoutSchedules)
      .set({ amountCents: 14_999 })
      .where(eq(payoutSchedules.id, schedule.id));
    let now = new Date();
    for (let attempt = 1; attempt <= MAX_SCHEDULE_RETRIES; attempt++) {
      const result = await runSweep(t.db, sweep, { now });
      expect(result).toMatchObject({ processed: 0, failed: 1 });
      const row = await reload(schedule.id);
      expect(row.retryCount).toBe(attempt);
      expect(row.lastRetryAt?.toISOString()).toBe(now.toISOString());
      expect(row.failureReason).toMatch(/does not match/);
      if (attempt < MAX_SCHEDULE_RETRIES) {
        expect(row.status).toBe("pending");
        expect(row.nextAttemptAt!.getTime()).toBe(now.getTime() + scheduleBackoffMs(attempt));
        // In back-off: the next sweep leaves it alone.
        expect((await runSweep(t.db, sweep, { now })).failed).toBe(0);
        now = new Date(row.nextAttemptAt!.getTime() + 1000);
      } else {
        expect(row.status).toBe("failed");
        expect(row.nextAttemptAt).toBeNull();
      }
    }
    // Failed for good: later sweeps never touch it again.
    const muchLater = new Date(now.getTime() + 30 * DAY_MS);
    expect(await runSweep(t.db, sweep, { now: muchLater })).toMatchObject({ processed: 0, failed: 0 });
    expect((await reload(schedule.id)).retryCount).toBe(MAX_SCHEDULE_RETRIES);
    const alerts = await t.db.select().from(outboxEvents).where(eq(outboxEvents.aggregateId, schedule.id));
    expect(alerts.map((a) => a.type)).toEqual(["alert.payout_schedule_failed"]);
    expect(await payeeBalances(t.db, payee.id)).toEqual({});
  });

  it("a void invoice fails the schedule at once (the client will not pay)", async () => {
    const { schedule, placement } = await paidPlacement("Void Vera");
    await t.db
      .update(placementInvoices)
      .set({ status: "void" })
      .where(eq(placementInvoices.placementId, placement.id));
    expect((await runSweep(t.db, sweep)).failed).toBe(1);
    expect(await reload(schedule.id)).toMatchObject({ status: "failed", retryCount: 1 });
  });

  it("a row stuck in processing past its lease is picked up again and credited once", async () => {
    const { payee, schedule } = await paidPlacement("Crashed Carl");
    // A worker claimed it and died: processing, lease ran out an hour ago.
    await t.db
      .update(payoutSchedules)
      .set({ status: "processing", leaseExpiresAt: new Date(Date.now() - 3600_000) })
      .where(eq(payoutSchedules.id, schedule.id));
    expect((await runSweep(t.db, sweep)).processed).toBe(1);
    expect((await reload(schedule.id)).status).toBe("processed");
    expect((await payeeBalances(t.db, payee.id)).usd!.available).toBe(15_000);
  });

  it("a processing row whose lease is still live is left to its worker", async () => {
    const { schedule } = await paidPlacement("Busy Betty");
    await t.db
      .update(payoutSchedules)
      .set({ status: "processing", leaseExpiresAt: new Date(Date.now() + 3600_000) })
      .where(eq(payoutSchedules.id, schedule.id));
    expect((await runSweep(t.db, sweep)).processed).toBe(0);
    expect((await reload(schedule.id)).status).toBe("processing");
  });

  it("a cancelled placement's schedule is cancelled and never credited", async () => {
    const { schedule, placement } = await paidPlacement("Gone Gina");
    const { cancelPlacement } = await import("@/lib/placements/crud");
    await expect(
      cancelPlacement(t.db, {
        id: placement.id,
        input: { status: "failed", reason: "candidate left in week 2" },
        actor: { type: "user", id: "u1", role: "platform_admin" },
      }),
    ).resolves.toMatchObject({ status: "failed" });
    expect((await reload(schedule.id)).status).toBe("cancelled");
    expect((await runSweep(t.db, sweep)).processed).toBe(0);
    const [p] = await t.db.select().from(placements).where(eq(placements.id, placement.id));
    expect(p!.cancelReason).toBe("candidate left in week 2");
  });
});

describe("audit log", () => {
  it("is append-only: the database refuses UPDATE and DELETE", async () => {
    const [row] = await queryRows<{ id: number }>(t.db, sql`select id from audit_log limit 1`);
    expect(row).toBeDefined();
    // drizzle wraps the driver's error; the database's own message is on the cause
    const refused = (e: unknown) => /append-only/.test(String((e as { cause?: Error }).cause?.message ?? e));
    await expect(
      t.db.execute(sql`update audit_log set reason = 'rewritten' where id = ${row!.id}`),
    ).rejects.toSatisfy(refused);
    await expect(t.db.execute(sql`delete from audit_log where id = ${row!.id}`)).rejects.toSatisfy(refused);
    const [still] = await queryRows<{ reason: string | null }>(
      t.db,
      sql`select reason from audit_log where id = ${row!.id}`,
    );
    expect(still!.reason).not.toBe("rewritten");
  });
});
