import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../db/client";
import { systemActor } from "../../../lib/actor";
import { getEnv } from "../../../lib/env";
import { unbalancedTransactions } from "../../../lib/ledger";
import { claimPayouts } from "../../../lib/payouts/claim";
import { triggerPayoutRun } from "../../../lib/payouts/run";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { seedPayee, useAppEnv } from "../../integration/payouts/helpers";

// Only a real server proves these: ten triggers on ten connections, claims racing on SKIP LOCKED.
let t: TestDb;
let ts: TestStripe;

beforeAll(async () => {
  t = await createTestDb();
  ts = await startTestStripe();
  useAppEnv(t.db, ts.simulator.url);
});

/** Twenty payees of this test's own: each test stands alone, in any order. */
async function twentyPayees(): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) ids.push((await seedPayee(t.db, ts, { connectedCents: 2000 + i })).payeeId);
  return ids;
}
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

describe("one run per cycle on real Postgres", () => {
  it("ten concurrent triggers of one cycle make one run, planned once", async () => {
    const payeeIds = await twentyPayees();
    const pool = t.connect(12);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        triggerPayoutRun(pool.db, getEnv(), { cycleDate: "2027-03-01", payeeIds, trigger: "manual", actor: systemActor(`t${i}`) }),
      ),
    );
    const runIds = new Set(results.map((r) => (r.kind === "run" ? r.runId : r.kind)));
    expect(runIds.size).toBe(1);
    expect(results.filter((r) => r.kind === "run" && r.created).length).toBe(1);
    expect(results.filter((r) => r.kind === "run" && r.shouldExecute).length).toBe(1);
    const [{ n }] = (await queryRows<{ n: string }>(t.db, sql`select count(*) as n from payout_runs where cycle_date = '2027-03-01'`)) as [
      { n: string },
    ];
    expect(Number(n)).toBe(1);
    const [{ p }] = (await queryRows<{ p: string }>(t.db, sql`select count(*) as p from payouts p join payout_runs r on r.id = p.run_id
                                                            where r.cycle_date = '2027-03-01'`)) as [{ p: string }];
    expect(Number(p)).toBe(20);
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });

  it("concurrent claimers never take the same payout", async () => {
    const payeeIds = await twentyPayees();
    const trig = await triggerPayoutRun(t.db, getEnv(), { cycleDate: "2027-03-15", payeeIds, trigger: "manual", actor: systemActor("t") });
    if (trig.kind !== "run") throw new Error("no run");
    const run = { id: trig.runId };
    const pool = t.connect(8);
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        claimPayouts(pool.db, { runId: run.id, owner: `w${i}`, limit: 5, actor: systemActor(`w${i}`), leaseSeconds: 300 }),
      ),
    );
    const ids = claims.flat().map((c) => c.id);
    expect(ids.length).toBe(20);
    expect(new Set(ids).size).toBe(20);
    expect(claims.flat().every((c) => c.payoutIdempotencyKey === `payout:${c.id}:payout`)).toBe(true);
  });
});
