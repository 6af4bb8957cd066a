import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as runRoute } from "@/app/internal/payouts/run/route";
import { payeeBalances, unbalancedTransactions } from "@/lib/ledger";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { internalRequest, payoutRows, routeCtx, seedPayee, stripeWrites, useAppEnv } from "./helpers";

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

const run = async (body: unknown) => {
  const res = await runRoute(internalRequest("POST", "/internal/payouts/run", body), routeCtx());
  return { status: res.status, body: (await res.json()) as { runId: string; cycleKey: string } };
};

describe("a run for some payees only (emergency payout)", () => {
  it("does not take the cycle: the full run still pays everyone else, and the same payees again are one run", async () => {
    const urgent = await seedPayee(t.db, ts, { connectedCents: 3000 });
    const other = await seedPayee(t.db, ts, { connectedCents: 4000 });
    const cycleDate = "2026-12-01";

    const targeted = await run({ cycleDate, payeeIds: [urgent.payeeId] });
    expect(targeted.status).toBe(202);
    expect(targeted.body.cycleKey).toMatch(/^2026-12-01:payees-[0-9a-f]{12}$/);
    expect((await payoutRows(t.db, targeted.body.runId)).map((p) => p.payee_id)).toEqual([urgent.payeeId]);
    const again = await run({ cycleDate, payeeIds: [urgent.payeeId] });
    expect(again.body.runId).toBe(targeted.body.runId);

    const full = await run({ cycleDate });
    expect(full.body.cycleKey).toBe(cycleDate);
    expect(full.body.runId).not.toBe(targeted.body.runId);
    // the urgent payee's money already left available, so the full run pays only the other one
    expect((await payoutRows(t.db, full.body.runId)).map((p) => p.payee_id)).toEqual([other.payeeId]);
    expect(stripeWrites(ts)).toMatchObject({ payoutsCreated: 2 });
    expect((await payeeBalances(t.db, urgent.payeeId)).usd).toMatchObject({ available: 0, in_transit: 3000 });
    expect((await payeeBalances(t.db, other.payeeId)).usd).toMatchObject({ available: 0, in_transit: 4000 });
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });
});
