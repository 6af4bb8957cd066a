import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { systemActor } from "@/lib/actor";
import { getEnv } from "@/lib/env";
import { unbalancedTransactions } from "@/lib/ledger";
import { executePayoutRun } from "@/lib/payouts/execute";
import { StripeRateLimiter } from "@/lib/stripe/limiter";
import type { ExecutorFaultPoint } from "@/lib/payouts/process-payout";
import { triggerPayoutRun } from "@/lib/payouts/run";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { expectKeysSent, expireLeases, payoutRows, seedPayee, stripeWrites, useAppEnv } from "./helpers";

// Kill the work at each step, resume, and count what reached Stripe: one transfer (for platform
// funds) and one payout per payee per cycle, and a balanced ledger.

let t: TestDb;
let ts: TestStripe;
const actor = systemActor("test");

beforeAll(async () => {
  t = await createTestDb();
  ts = await startTestStripe();
  useAppEnv(t.db, ts.simulator.url);
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

class CrashDrill extends Error {
  crashDrill = true;
}

/** A fresh simulator state and three payees (connected funds, platform funds, both). */
async function freshCycle() {
  ts.simulator.reset();
  ts.simulator.setFaults({});
  await t.db.execute(
    sql`update payout_runs set status = 'cancelled' where status in ('planning', 'executing')`,
  );
  const payees = [
    await seedPayee(t.db, ts, { connectedCents: 4500 }),
    await seedPayee(t.db, ts, { platformCents: 3000 }),
    await seedPayee(t.db, ts, { platformCents: 2000, connectedCents: 1500 }),
  ];
  return payees;
}

async function assertExactlyOnce(runId: string, payeeCount: number, transfers: number) {
  const rows = await payoutRows(t.db, runId);
  const planned = rows.filter((r) => r.status !== "skipped");
  expect(planned.length).toBe(payeeCount);
  expect(planned.map((r) => [r.status, r.failure_code, r.failure_message])).toEqual(
    planned.map(() => ["in_transit", null, null]),
  );
  const writes = stripeWrites(ts);
  expect(writes.payoutsCreated).toBe(payeeCount);
  expect(writes.payoutRequests).toBe(payeeCount);
  expect(writes.transfersCreated).toBe(transfers);
  expect(writes.transferRequests).toBe(transfers);
  await expectKeysSent(t.db, ts, runId);
  expect(await unbalancedTransactions(t.db)).toEqual([]);
}

let cycleDay = 0;
const nextCycle = () => {
  cycleDay++;
  return `2028-0${1 + Math.floor(cycleDay / 2)}-${cycleDay % 2 === 0 ? "01" : "15"}`;
};

describe("crash drills", () => {
  it("after planning: the next trigger (stale heartbeat) executes the planned run", async () => {
    const payeeIds = (await freshCycle()).map((p) => p.payeeId);
    const cycleDate = "2027-06-01";
    await expect(
      triggerPayoutRun(t.db, getEnv(), {
        cycleDate,
        payeeIds,
        trigger: "manual",
        actor,
        afterPlan: () => {
          throw new CrashDrill("killed after planning");
        },
      }),
    ).rejects.toThrow("killed after planning");
    const [run] = await queryRows<{ id: string; status: string }>(
      t.db,
      sql`select id, status from payout_runs where cycle_date = ${cycleDate} and not dry_run`,
    );
    expect(run!.status).toBe("executing");
    // a trigger within 15 minutes leaves a live run alone
    const early = await triggerPayoutRun(t.db, getEnv(), { cycleDate, payeeIds, trigger: "manual", actor });
    expect(early).toMatchObject({ kind: "run", shouldExecute: false });
    await t.db.execute(
      sql`update payout_runs set heartbeat_at = now() - interval '16 minutes' where id = ${run!.id}`,
    );
    const again = await triggerPayoutRun(t.db, getEnv(), { cycleDate, payeeIds, trigger: "manual", actor });
    expect(again).toMatchObject({ kind: "run", runId: run!.id, shouldExecute: true });
    await executePayoutRun(t.db, getEnv(), ts.gateway, { runId: run!.id, deadline: Date.now() + 60_000 });
    await assertExactlyOnce(run!.id, 3, 2);
  });

  for (const point of [
    "afterClaim",
    "afterTransferCall",
    "afterPayoutCall",
    "afterUpdate",
  ] as ExecutorFaultPoint[]) {
    it(`killed ${point}: resuming sends nothing twice`, async () => {
      const payees = await freshCycle();
      const cycleDate = nextCycle();
      const payeeIds = payees.map((p) => p.payeeId);
      const trig = await triggerPayoutRun(t.db, getEnv(), { cycleDate, payeeIds, trigger: "manual", actor });
      if (trig.kind !== "run") throw new Error("no run");
      // Kill at the point on the payee that has both a transfer and a payout.
      const target = (await payoutRows(t.db, trig.runId)).find((r) => r.payee_id === payees[2]!.payeeId)!
        .id as string;
      await expect(
        executePayoutRun(t.db, getEnv(), ts.gateway, {
          runId: trig.runId,
          deadline: Date.now() + 60_000,
          concurrency: 1,
          hooks: {
            fault: (at, payoutId) => {
              if (at === point && (payoutId === target || at === "afterClaim"))
                throw new CrashDrill(`killed ${point}`);
            },
          },
        }),
      ).rejects.toThrow(`killed ${point}`);
      await expireLeases(t.db, trig.runId);
      const result = await executePayoutRun(t.db, getEnv(), ts.gateway, {
        runId: trig.runId,
        deadline: Date.now() + 60_000,
      });
      expect(result.state).toBe("done");
      await assertExactlyOnce(trig.runId, 3, 2);
    });
  }

  // The answer of the payout call is lost (killed right after it); the row is then made to look like a
  // first attempt (attempts 0 before the claim), so the age of the first attempt is the only reason
  // the executor may have to look the payout up at Stripe.
  async function lostPayoutAnswer(cycleDate: string, hoursAgo: number) {
    ts.simulator.reset();
    ts.simulator.setFaults({});
    await t.db.execute(sql`update payout_runs set status = 'cancelled' where status in ('planning', 'executing')`);
    const payee = await seedPayee(t.db, ts, { platformCents: 2000, connectedCents: 1500 });
    const trig = await triggerPayoutRun(t.db, getEnv(), { cycleDate, payeeIds: [payee.payeeId], trigger: "manual", actor });
    if (trig.kind !== "run") throw new Error("no run");
    await expect(
      executePayoutRun(t.db, getEnv(), ts.gateway, {
        runId: trig.runId,
        deadline: Date.now() + 60_000,
        hooks: {
          fault: (at) => {
            if (at === "afterPayoutCall") throw new CrashDrill("lost the answer");
          },
        },
      }),
    ).rejects.toThrow("lost the answer");
    ts.simulator.advanceClock(hoursAgo * 3600);
    await t.db.execute(sql`update payouts set attempts = 0, first_attempt_at = now() - make_interval(hours => ${hoursAgo}),
                           lease_expires_at = now() - interval '1 second' where run_id = ${trig.runId}`);
    const result = await executePayoutRun(t.db, getEnv(), ts.gateway, { runId: trig.runId, deadline: Date.now() + 60_000 });
    expect(result.state).toBe("done");
    const [row] = await payoutRows(t.db, trig.runId);
    expect(row).toMatchObject({ status: "in_transit", attempts: 1 });
    const lookups = ts.simulator
      .requests(0, 100000)
      .filter((r) => r.method === "GET" && /\/v1\/(payouts|transfers)/.test(r.path))
      .map((r) => `${r.method} ${r.endpoint}`);
    return { runId: trig.runId, lookups };
  }

  it("a first attempt older than 24 hours (Stripe forgot its key) is looked up at Stripe, not sent again", async () => {
    const { runId, lookups } = await lostPayoutAnswer("2027-09-01", 25);
    // the transfer was saved before the crash; only the payout is looked up, once
    expect(lookups).toEqual(["GET GET /v1/payouts"]);
    await assertExactlyOnce(runId, 1, 1);
  });

  it("control: a first attempt under 24 hours old is not looked up; its stored key gets Stripe's saved answer", async () => {
    const { runId, lookups } = await lostPayoutAnswer("2027-09-15", 23);
    expect(lookups).toEqual([]);
    // sent again with the same key: Stripe answers with the payout it made, none is made twice
    expect(stripeWrites(ts)).toMatchObject({ payoutRequests: 2, payoutsCreated: 1, transferRequests: 1, transfersCreated: 1 });
    await expectKeysSent(t.db, ts, runId);
    expect(await unbalancedTransactions(t.db)).toEqual([]);
    const replays = ts.simulator.requests(0, 100000).filter((r) => r.endpoint === "POST /v1/payouts" && r.replayed);
    expect(replays.length).toBe(1);
  });

  it("time budget ends between a transfer and its payout: the next slice pays it, no lookup, no second transfer", async () => {
    await freshCycle();
    const trig = await triggerPayoutRun(t.db, getEnv(), {
      cycleDate: "2027-11-01",
      trigger: "manual",
      actor,
    });
    if (trig.kind !== "run") throw new Error("no run");
    const deadline = Date.now() + 2_000;
    const first = await executePayoutRun(t.db, getEnv(), ts.gateway, {
      runId: trig.runId,
      deadline,
      concurrency: 1,
      hooks: {
        // the transfer went through; the invocation's time is up before the payout call can start
        fault: async (point) => {
          if (point === "afterTransferCall")
            await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now() + 50)));
        },
      },
    });
    expect(first.state).toBe("more");
    expect(first.outcomes.interrupted).toBe(0);
    const second = await executePayoutRun(t.db, getEnv(), ts.gateway, {
      runId: trig.runId,
      deadline: Date.now() + 60_000,
    });
    expect(second.state).toBe("done");
    await assertExactlyOnce(trig.runId, 3, 2);
    const lookups = ts.simulator
      .requests(0, 100000)
      .filter(
        (r) => r.method === "GET" && (r.path.includes("/v1/payouts") || r.path.includes("/v1/transfers")),
      );
    expect(lookups).toEqual([]);
  });

  it("a slice whose Stripe budget runs out stops claiming instead of claiming and handing back the rest", async () => {
    ts.simulator.reset();
    await t.db.execute(
      sql`update payout_runs set status = 'cancelled' where status in ('planning', 'executing')`,
    );
    const payeeIds: string[] = [];
    for (let i = 0; i < 12; i++)
      payeeIds.push((await seedPayee(t.db, ts, { connectedCents: 2000 + i })).payeeId);
    const trig = await triggerPayoutRun(t.db, getEnv(), {
      cycleDate: "2027-12-01",
      payeeIds,
      trigger: "manual",
      actor,
    });
    if (trig.kind !== "run") throw new Error("no run");
    // two payouts a second for one second: most of the run has to wait for the next slice
    const limiter = new StripeRateLimiter({ overall: 100, perEndpoint: 25, payouts: 2 });
    const first = await executePayoutRun(t.db, getEnv(), ts.gateway, {
      runId: trig.runId,
      deadline: Date.now() + 1_000,
      concurrency: 2,
      batchSize: 2,
      limiter,
    });
    expect(first.state).toBe("more");
    expect(first.outcomes.in_transit).toBeGreaterThanOrEqual(1);
    // at most what the workers and one claimed batch held when time ran out, not the whole run
    expect(first.outcomes.not_started).toBeLessThanOrEqual(2);
    const [{ n }] = (await queryRows<{ n: string }>(
      t.db,
      sql`select count(*) as n from audit_log where action = 'payout.released'
          and entity_id in (select id::text from payouts where run_id = ${trig.runId})`,
    )) as [{ n: string }];
    expect(Number(n)).toBeLessThanOrEqual(4);
    const rest = await executePayoutRun(t.db, getEnv(), ts.gateway, {
      runId: trig.runId,
      deadline: Date.now() + 60_000,
    });
    expect(rest.state).toBe("done");
    expect(stripeWrites(ts)).toMatchObject({ payoutsCreated: 12, payoutRequests: 12 });
  });

  it("429 bursts and 500s: every payee paid, none twice", async () => {
    ts.simulator.reset();
    await t.db.execute(
      sql`update payout_runs set status = 'cancelled' where status in ('planning', 'executing')`,
    );
    const payees = [];
    for (let i = 0; i < 12; i++)
      payees.push(
        await seedPayee(t.db, ts, i % 2 ? { platformCents: 1500 + i } : { connectedCents: 2000 + i }),
      );
    ts.simulator.setFaults({
      rateLimits: { payoutsPerSecond: 3, perEndpointPerSecond: 4 },
      endpoints: {
        "POST /v1/payouts": { errorCount: 4 },
        "POST /v1/transfers": { lockTimeoutCount: 3, dropCount: 1, dropPhase: "after" },
      },
    });
    const trig = await triggerPayoutRun(t.db, getEnv(), {
      cycleDate: "2027-10-01",
      payeeIds: payees.map((p) => p.payeeId),
      trigger: "manual",
      actor,
    });
    if (trig.kind !== "run") throw new Error("no run");
    let result = await executePayoutRun(t.db, getEnv(), ts.gateway, {
      runId: trig.runId,
      deadline: Date.now() + 60_000,
    });
    for (let i = 0; i < 5 && result.state === "more"; i++) {
      await expireLeases(t.db, trig.runId);
      result = await executePayoutRun(t.db, getEnv(), ts.gateway, {
        runId: trig.runId,
        deadline: Date.now() + 60_000,
      });
    }
    expect(result.state).toBe("done");
    const rows = await payoutRows(t.db, trig.runId);
    expect(rows.filter((r) => r.status === "in_transit").length).toBe(12);
    const writes = stripeWrites(ts);
    expect(writes.payoutsCreated).toBe(12);
    expect(writes.transfersCreated).toBe(6);
    expect(writes.rateLimited).toBeGreaterThan(0);
    ts.simulator.setFaults({});
  });
});
