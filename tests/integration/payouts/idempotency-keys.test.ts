import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemActor } from "@/lib/actor";
import { getEnv } from "@/lib/env";
import { unbalancedTransactions } from "@/lib/ledger";
import { executePayoutRun } from "@/lib/payouts/execute";
import { payoutKey } from "@/lib/payouts/keys";
import { triggerPayoutRun } from "@/lib/payouts/run";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { expectKeysSent, payoutRows, seedPayee, stripeWrites, useAppEnv } from "./helpers";

// The Idempotency-Key is what stops a duplicate when Stripe did the work and the answer was lost:
// no lookup runs on a first attempt, so only the key stands between a retry and a second payout.

let t: TestDb;
let ts: TestStripe;
const actor = systemActor("test");

beforeAll(async () => {
  t = await createTestDb();
  // The gateway's call path retries (3 times); the SDK's own retries are off (lib/stripe/client.ts).
  ts = await startTestStripe({ maxRetries: 3 });
  useAppEnv(t.db, ts.simulator.url);
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

async function runFor(cycleDate: string, payeeIds: string[]) {
  const trig = await triggerPayoutRun(t.db, getEnv(), { cycleDate, payeeIds, trigger: "manual", actor });
  if (trig.kind !== "run") throw new Error(`expected a run, got ${trig.kind}`);
  const result = await executePayoutRun(t.db, getEnv(), ts.gateway, {
    runId: trig.runId,
    deadline: Date.now() + 60_000,
  });
  expect(result.state).toBe("done");
  return trig.runId;
}

describe("Stripe idempotency keys", () => {
  it("every transfer and payout goes out with payoutKey(row, step), stored on the row before the call", async () => {
    ts.simulator.reset();
    const payees = [
      await seedPayee(t.db, ts, { connectedCents: 4500 }),
      await seedPayee(t.db, ts, { platformCents: 3000 }),
      await seedPayee(t.db, ts, { platformCents: 2000, connectedCents: 1500 }),
    ];
    const runId = await runFor(
      "2029-01-01",
      payees.map((p) => p.payeeId),
    );
    const rows = await payoutRows(t.db, runId);
    expect(rows.map((r) => r.status)).toEqual(["in_transit", "in_transit", "in_transit"]);
    for (const r of rows) {
      const id = { id: String(r.id), retries: Number(r.retries) };
      expect(r.payout_idempotency_key).toBe(payoutKey(id, "payout"));
      expect(r.transfer_idempotency_key).toBe(
        Number(r.transfer_amount_cents) > 0 ? payoutKey(id, "transfer") : null,
      );
    }
    expect(stripeWrites(ts)).toMatchObject({
      transferRequests: 2,
      transfersCreated: 2,
      payoutRequests: 3,
      payoutsCreated: 3,
    });
    await expectKeysSent(t.db, ts, runId);
  });

  it("a lost answer after Stripe created the transfer and the payout: the retry's key gets them back, nothing is made twice", async () => {
    ts.simulator.reset();
    expect(ts.stripe.getMaxNetworkRetries()).toBe(0);
    const payee = await seedPayee(t.db, ts, { platformCents: 2000, connectedCents: 1500 });
    // Stripe does the work and saves the idempotent result; the connection dies before the answer.
    ts.simulator.setFaults({
      endpoints: {
        "POST /v1/transfers": { dropCount: 1, dropPhase: "after" },
        "POST /v1/payouts": { dropCount: 1, dropPhase: "after" },
      },
    });
    const runId = await runFor("2029-01-15", [payee.payeeId]);
    ts.simulator.setFaults({});
    const [row] = await payoutRows(t.db, runId);
    expect(row).toMatchObject({ status: "in_transit", attempts: 1 });
    const log = ts.simulator.requests(0, 1_000_000);
    // A first attempt looks nothing up: the key alone prevented the duplicate.
    expect(log.filter((r) => r.method === "GET" && /\/v1\/(payouts|transfers)/.test(r.path))).toEqual([]);
    for (const [endpoint, step] of [
      ["POST /v1/transfers", "transfer"],
      ["POST /v1/payouts", "payout"],
    ] as const) {
      const sent = log.filter((r) => r.endpoint === endpoint);
      expect(sent.map((r) => [r.idempotencyKey, r.fault ?? null, r.replayed])).toEqual([
        [payoutKey({ id: String(row!.id), retries: 0 }, step), "drop_after", false],
        [payoutKey({ id: String(row!.id), retries: 0 }, step), null, true],
      ]);
    }
    expect(stripeWrites(ts)).toMatchObject({ transfersCreated: 1, payoutsCreated: 1 });
    expect(ts.simulator.balances(payee.accountId).balances.find((b) => b.currency === "usd")).toMatchObject({
      available: 0,
    });
    await expectKeysSent(t.db, ts, runId);
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });
});
