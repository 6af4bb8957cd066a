import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../db/client";
import { type Actor, systemActor } from "../../../lib/actor";
import { getEnv } from "../../../lib/env";
import { payeeBalances, unbalancedTransactions } from "../../../lib/ledger";
import { approvePayout } from "../../../lib/payouts/approval";
import { resumePayoutRun } from "../../../lib/payouts/continue";
import { continuePayoutRun, triggerPayoutRun } from "../../../lib/payouts/run";
import { seedPayee, stripeWrites, useAppEnv } from "../../integration/payouts/helpers";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";

// An approval arriving while the run executes, at any moment (before the slice claims, while it sends,
// while it finishes the run, after): the payout is sent exactly once and the run ends completed.
// Only a real server has the concurrency: the slice and the approval on their own connections.

let t: TestDb;
let ts: TestStripe;
const system = systemActor("approval-race");
const outcomes: { delayMs: number | string; reopened: boolean; slice: string }[] = [];
const approver = (): Actor => ({ type: "user", id: randomUUID(), role: "finance" });

beforeAll(async () => {
  t = await createTestDb();
  ts = await startTestStripe();
  useAppEnv(t.db, ts.simulator.url, { PAYOUT_APPROVAL_THRESHOLD_CENTS: "usd:50000" });
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

/** Work the run to its end as its continuations would: each step of whichever chain is current. */
async function driveToEnd(runId: string) {
  for (let step = 0; step < 20; step++) {
    const [run] = await queryRows<{ status: string; executor_chain: string }>(
      t.db,
      sql`select status, executor_chain from payout_runs where id = ${runId}`,
    );
    if (run!.status !== "executing") return run!.status;
    await resumePayoutRun(t.db, getEnv(), ts.gateway, {
      runId,
      chainId: run!.executor_chain,
      continuation: 100 + step,
      actor: system,
    });
  }
  throw new Error("run did not finish");
}

describe("approval racing the run's executor on real Postgres", () => {
  // "before": committed before the slice starts; "after": once the slice has finished the run; a
  // number: that many ms into the slice, racing it.
  it.each([
    ["before", "2028-01-01"],
    [0, "2028-01-15"],
    [40, "2028-02-01"],
    [150, "2028-02-15"],
    [400, "2028-03-01"],
    [900, "2028-03-15"],
    ["after", "2028-04-01"],
  ] as const)("an approval at %s (ms into the slice) is sent exactly once", async (delayMs, cycleDate) => {
    for (let i = 0; i < 12; i++) await seedPayee(t.db, ts, { connectedCents: 2000 + i });
    const big = await seedPayee(t.db, ts, {
      connectedCents: 90_000,
      platformCents: 10_000,
      name: `Big ${delayMs}`,
    });
    const trig = await triggerPayoutRun(t.db, getEnv(), { cycleDate, trigger: "manual", actor: system });
    if (trig.kind !== "run" || !trig.chainId) throw new Error("no run");
    const [payout] = await queryRows<{ id: string; status: string }>(
      t.db,
      sql`select id, status from payouts where run_id = ${trig.runId} and payee_id = ${big.payeeId}`,
    );
    expect(payout!.status).toBe("awaiting_approval");

    const slicePool = t.connect(4);
    const approvalPool = t.connect(2);
    const approve = () =>
      approvePayout(approvalPool.db, getEnv(), {
        payoutId: payout!.id,
        actor: approver(),
        reason: "race drill",
      });
    const sliceRun = () =>
      continuePayoutRun(slicePool.db, getEnv(), ts.gateway, {
        runId: trig.runId,
        chainId: trig.chainId!,
        actor: system,
        dispatch: false,
      });
    let slice: Awaited<ReturnType<typeof sliceRun>>;
    let decision: Awaited<ReturnType<typeof approve>>;
    if (delayMs === "before") {
      decision = await approve();
      slice = await sliceRun();
    } else if (delayMs === "after") {
      slice = await sliceRun();
      decision = await approve();
    } else {
      [slice, decision] = await Promise.all([
        sliceRun(),
        new Promise((resolve) => setTimeout(resolve, delayMs)).then(approve),
      ]);
    }
    await Promise.all([slicePool.close(), approvalPool.close()]);
    outcomes.push({ delayMs, reopened: decision.reopenedRun, slice: slice.state });
    expect(decision.status).toBe("planned");
    // Whichever committed first, the run is not left completed with the payout planned: either the
    // slice saw it (claimed it, or found it when finishing and went on) or the approval reopened the run.
    const [mid] = await queryRows<{ status: string; p: string }>(
      t.db,
      sql`select r.status, p.status as p from payout_runs r join payouts p on p.run_id = r.id where r.id = ${trig.runId} and p.id = ${payout!.id}`,
    );
    expect(mid!.status === "completed" && mid!.p === "planned").toBe(false);
    if (slice.state === "done" && mid!.p === "planned") expect(decision.reopenedRun).toBe(true);

    expect(await driveToEnd(trig.runId)).toBe("completed");
    const [done] = await queryRows<{ status: string; stripe_payout_id: string }>(
      t.db,
      sql`select status, stripe_payout_id from payouts where id = ${payout!.id}`,
    );
    expect(done!.status).toBe("in_transit");
    // one Stripe payout for it, of the whole amount; its money left available exactly once
    const payoutsAtStripe = ts.simulator
      .requests(0, 1_000_000)
      .filter((r) => r.endpoint === "POST /v1/payouts" && r.status < 400)
      .flatMap((r) => r.createdIds)
      .filter((id) => id === done!.stripe_payout_id);
    expect(new Set(payoutsAtStripe).size).toBe(1);
    expect(ts.simulator.getObject(done!.stripe_payout_id)?.amount).toBe(100_000);
    expect((await payeeBalances(t.db, big.payeeId)).usd).toMatchObject({ available: 0, in_transit: 100_000 });
    expect(await unbalancedTransactions(t.db)).toEqual([]);
    expect(stripeWrites(ts).payoutsCreated).toBeGreaterThan(0);
  });

  it("the drill met both orders: approvals the live slice took, and approvals that reopened the finished run", () => {
    console.info("approval race outcomes", JSON.stringify(outcomes));
    expect(outcomes.find((o) => o.delayMs === "before")).toMatchObject({ reopened: false });
    expect(outcomes.find((o) => o.delayMs === "after")).toMatchObject({ reopened: true, slice: "done" });
  });

  it("two approvers at once: one approval, one conflict, one posting", async () => {
    const big = await seedPayee(t.db, ts, { connectedCents: 60_000, name: "Twice" });
    const trig = await triggerPayoutRun(t.db, getEnv(), {
      cycleDate: "2028-06-01",
      trigger: "manual",
      actor: system,
    });
    if (trig.kind !== "run") throw new Error("no run");
    const [payout] = await queryRows<{ id: string }>(
      t.db,
      sql`select id from payouts where run_id = ${trig.runId} and payee_id = ${big.payeeId}`,
    );
    const pool = t.connect(4);
    const results = await Promise.allSettled(
      [approver(), approver()].map((a) =>
        approvePayout(pool.db, getEnv(), { payoutId: payout!.id, actor: a, reason: "both at once" }),
      ),
    );
    await pool.close();
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: "conflict" });
    const postings = await queryRows(
      t.db,
      sql`select 1 from ledger_transactions where source_id = ${payout!.id} and kind = 'payout_planned'`,
    );
    expect(postings).toHaveLength(1);
  });
});
