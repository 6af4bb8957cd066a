import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../db/client";
import { systemActor } from "../../../lib/actor";
import { getEnv } from "../../../lib/env";
import { unbalancedTransactions } from "../../../lib/ledger";
import { executePayoutRun } from "../../../lib/payouts/execute";
import { triggerPayoutRun } from "../../../lib/payouts/run";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import {
  expectKeysSent,
  payoutRows,
  seedPayee,
  stripeWrites,
  useAppEnv,
} from "../../integration/payouts/helpers";

// Two executors on one payout: the first one's lease runs out while it is between Stripe's answer
// and its save (slow, not dead), a second executor reclaims the payout and finishes it, then the
// first one wakes up and carries on. Stripe still sees one transfer and one payout.

let t: TestDb;
let ts: TestStripe;

beforeAll(async () => {
  t = await createTestDb();
  ts = await startTestStripe();
  useAppEnv(t.db, ts.simulator.url);
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

describe("executors overlapping on an expired lease (real Postgres)", () => {
  for (const point of ["afterTransferCall", "afterPayoutCall"] as const) {
    it(`the first executor stalls ${point} past its lease: one transfer, one payout, one save`, async () => {
      ts.simulator.reset();
      const payee = await seedPayee(t.db, ts, { platformCents: 2000, connectedCents: 1500 });
      const cycleDate = point === "afterTransferCall" ? "2033-01-01" : "2033-01-15";
      const trig = await triggerPayoutRun(t.db, getEnv(), {
        cycleDate,
        payeeIds: [payee.payeeId],
        trigger: "manual",
        actor: systemActor("t"),
      });
      if (trig.kind !== "run") throw new Error("no run");
      const first = t.connect(2);
      const second = t.connect(2);
      let stalled!: () => void;
      const isStalled = new Promise<void>((r) => {
        stalled = r;
      });
      let wake!: () => void;
      const woken = new Promise<void>((r) => {
        wake = r;
      });
      try {
        const slow = executePayoutRun(first.db, getEnv(), ts.gateway, {
          runId: trig.runId,
          deadline: Date.now() + 60_000,
          leaseSeconds: 1,
          hooks: {
            fault: async (at) => {
              if (at !== point) return;
              stalled();
              await woken;
            },
          },
        });
        await isStalled;
        // until the first executor's lease has really run out (the database's clock decides)
        for (;;) {
          const [r] = await queryRows<{ expired: boolean }>(
            t.db,
            sql`select lease_expires_at < now() as expired from payouts where run_id = ${trig.runId}`,
          );
          if (r!.expired) break;
          await new Promise((res) => setTimeout(res, 50));
        }
        const fast = await executePayoutRun(second.db, getEnv(), ts.gateway, {
          runId: trig.runId,
          deadline: Date.now() + 60_000,
        });
        expect(fast.outcomes).toMatchObject({ in_transit: 1 });
        wake();
        const late = await slow;
        expect(late.outcomes).toMatchObject({ in_transit: 0, lost_lease: 1 });
      } finally {
        wake();
        await first.close();
        await second.close();
      }
      const [row] = await payoutRows(t.db, trig.runId);
      expect(row).toMatchObject({ status: "in_transit", attempts: 2 });
      expect(stripeWrites(ts)).toMatchObject({ transfersCreated: 1, payoutsCreated: 1 });
      await expectKeysSent(t.db, ts, trig.runId);
      const [saved] = await queryRows<{ n: string }>(
        t.db,
        sql`select count(*) as n from audit_log where action = 'payout.in_transit' and entity_id = ${String(row!.id)}`,
      );
      expect(Number(saved!.n)).toBe(1);
      expect(await unbalancedTransactions(t.db)).toEqual([]);
    });
  }
});
