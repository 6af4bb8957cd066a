import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, queryRows } from "@/db/client";
import { escrowHolds, payoutSchedules, placementInvoices, placements } from "@/db/schema";
import { payeeBalances } from "@/lib/ledger";
import { processClaimedSchedule } from "@/lib/payout-schedules/process";
import { createTestDb, type TestDb } from "../../support/db";
import { admin, makePayee, sweepActor } from "../../integration/sweeps/helpers";

// A placement hold made while the payout-schedules sweep credits the share must end up funded.
let t: TestDb;
let other: { db: Db; close(): Promise<void> };
beforeAll(async () => {
  t = await createTestDb();
  other = t.connect(2);
});
afterAll(async () => {
  await other?.close();
  await t?.close();
});

describe("processClaimedSchedule and createEscrowHold on one placement", () => {
  it("a hold inserted (unfunded) while the schedule is processing is funded by it", async () => {
    const payee = await makePayee(t.db, "Racing Rosa");
    const [placement] = await t.db
      .insert(placements)
      .values({
        payeeId: payee.id,
        clientStripeCustomerId: "cus_race",
        feeCents: 10_000,
        payeeShareCents: 8_000,
        currency: "usd",
        startDate: "2026-01-01",
        guaranteeDays: 30,
        status: "guarantee_completed",
      })
      .returning();
    await t.db.insert(placementInvoices).values({
      placementId: placement!.id,
      amountCents: 10_000,
      currency: "usd",
      status: "paid",
      idempotencyKey: `inv-${placement!.id}`,
      stripeInvoiceId: `in_race_${placement!.id}`,
      paidAt: new Date(Date.now() - 86_400_000),
    });
    const [schedule] = await t.db
      .insert(payoutSchedules)
      .values({
        placementId: placement!.id,
        payeeId: payee.id,
        amountCents: 8_000,
        currency: "usd",
        dueAt: new Date(Date.now() - 1000),
        status: "processing",
        leaseExpiresAt: new Date(Date.now() + 60_000),
      })
      .returning();

    // createEscrowHold's steps on another connection: lock the placement, see the schedule not yet
    // processed, insert the hold unfunded, and commit a moment later.
    let processing: Promise<unknown> | undefined;
    await other.db.transaction(async (tx) => {
      await tx.select().from(placements).where(eq(placements.id, placement!.id)).for("update");
      const [seen] = await tx.select().from(payoutSchedules).where(eq(payoutSchedules.id, schedule!.id));
      expect(seen!.status).toBe("processing");
      await tx.insert(escrowHolds).values({
        payeeId: payee.id,
        placementId: placement!.id,
        kind: "placement_escrow",
        amountCents: 3_000,
        currency: "usd",
        reason: "raced",
        createdBy: admin.id,
      });
      let settled = false;
      processing = processClaimedSchedule(t.db, schedule!.id, sweepActor, new Date()).finally(() => {
        settled = true;
      });
      // Commit only once the schedule's processing is blocked on this transaction's locks (pg_locks
      // shows its wait): the race really happens, every time, whatever the machine's speed.
      let blocked = false;
      while (!blocked && !settled) {
        const [w] = await queryRows<{ n: string }>(
          other.db,
          sql`select count(*) as n from pg_locks l join pg_stat_activity a on a.pid = l.pid
              where not l.granted and a.datname = current_database()`,
        );
        blocked = Number(w!.n) > 0;
        if (!blocked) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(blocked).toBe(true);
    });
    expect(await processing).toBe("processed");

    const [hold] = await t.db.select().from(escrowHolds).where(eq(escrowHolds.placementId, placement!.id));
    expect(hold!.holdLedgerTransactionId).not.toBeNull();
    expect((await payeeBalances(t.db, payee.id)).usd).toMatchObject({ available: 5_000, held: 3_000 });
  });
});
