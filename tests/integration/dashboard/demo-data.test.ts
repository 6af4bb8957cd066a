import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { systemActor } from "@/lib/actor";
import { listPayeeLedgerHistory } from "@/lib/dashboard/ledger-history";
import { seedDemo } from "@/lib/demo/seed";
import { DEMO_PAYEE_ID } from "@/lib/demo/users";
import { type Env, getEnv } from "@/lib/env";
import { latestCycle } from "@/lib/payouts/cycle";
import { payoutKpis } from "@/lib/payouts/queries";
import { retryFailedPayout } from "@/lib/payouts/retry";
import { retryBlockers, retryBlockerText } from "@/lib/payouts/retryable";
import { continuePayoutRun, triggerPayoutRun } from "@/lib/payouts/run";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { useAppEnv } from "../payouts/helpers";

// What a new user sees on `npm start`, read from the demo data itself (lib/demo/seed.ts): the
// simulator's clock replays the past there, so anything that mixes Stripe's times with ours shows.

const FLO = "00000000-0000-4000-8000-00000000d003"; // the demo payee whose payout failed at the bank
const actor = systemActor("demo-data-test");

let t: TestDb;
let ts: TestStripe;
let env: Env;

beforeAll(async () => {
  t = await createTestDb();
  ts = await startTestStripe();
  useAppEnv(t.db, ts.simulator.url);
  env = getEnv();
  await seedDemo(t.db, env, ts.gateway, ts.simulator);
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

const floFailedPayout = async () => {
  const [row] = await queryRows<{ id: string }>(
    t.db,
    sql`select id from payouts where payee_id = ${FLO} and status = 'failed'`,
  );
  return row!.id;
};

describe("the demo data", () => {
  it("Avg. run start → paid is a real duration: not negative, and about how long seeding took", async () => {
    const kpis = await payoutKpis(t.db);
    expect(kpis.paidCount).toBeGreaterThan(0);
    expect(kpis.averageSecondsRunStartToPaid).not.toBeNull();
    expect(kpis.averageSecondsRunStartToPaid!).toBeGreaterThanOrEqual(0);
    // The demo run starts and its payouts settle within the same seeding, seconds apart.
    expect(kpis.averageSecondsRunStartToPaid!).toBeLessThan(600);
  });

  it("offers Retry on the bank failure until a later run pays its money, then says why not", async () => {
    const failedId = await floFailedPayout();
    expect((await retryBlockers(t.db, [failedId])).get(failedId)).toBeNull();

    // The latest cycle's run (what a user starts first) pays Flo's available balance, which holds
    // the money the failure returned.
    const cycle = latestCycle(new Date(), env.PAYOUT_TIMEZONE);
    const run = await triggerPayoutRun(t.db, env, { trigger: "manual", actor });
    if (run.kind !== "run" || !run.chainId) throw new Error(`run did not start: ${run.kind}`);
    for (let i = 0; i < 20; i++) {
      const step = await continuePayoutRun(t.db, env, ts.gateway, {
        runId: run.runId,
        chainId: run.chainId,
        dispatch: false,
        actor,
      });
      if (step.state === "done") break;
    }

    const blocker = (await retryBlockers(t.db, [failedId])).get(failedId);
    expect(blocker).toMatchObject({
      kind: "paid_later",
      laterRunId: run.runId,
      laterCycleKey: cycle.cycleKey,
    });
    expect(retryBlockerText(blocker!)).toContain(`the ${cycle.cycleKey} run`);
    // The page is right not to offer it: the retry itself is refused.
    await expect(retryFailedPayout(t.db, failedId, actor, "demo-data test")).rejects.toThrow();
  });

  it("shows payees their history in plain words: no internal kinds, buckets or Stripe ids", async () => {
    for (const payeeId of [DEMO_PAYEE_ID, FLO]) {
      const { lines } = await listPayeeLedgerHistory(t.db, payeeId, { limit: 100 });
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line.label, line.kind).not.toBe("Balance change");
        expect(line.label).not.toMatch(/->|_|\b(pi|po|tr|ch)_|in transit/);
        // A move between buckets or places still says how much moved.
        expect(line.net !== 0 || line.moved > 0, `${line.kind} shows an amount`).toBe(true);
      }
    }
    const flo = await listPayeeLedgerHistory(t.db, FLO, { limit: 100 });
    expect(flo.lines.map((l) => l.label)).toContain("Payout failed: the money is back in your balance");
  });

  it("explains a payout that is not failed, and leaves unknown ids out", async () => {
    const [paid] = await queryRows<{ id: string }>(
      t.db,
      sql`select id from payouts where status in ('paid', 'in_transit') limit 1`,
    );
    const unknown = "00000000-0000-4000-8000-0000000000ff";
    const blockers = await retryBlockers(t.db, [paid!.id, unknown, "not-a-uuid"]);
    expect(blockers.get(paid!.id)?.kind).toBe("not_failed");
    expect(blockers.has(unknown)).toBe(false);
  });
});
