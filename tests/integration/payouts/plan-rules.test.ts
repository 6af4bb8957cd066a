import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemActor } from "@/lib/actor";
import { getEnv } from "@/lib/env";
import { postLedgerTransaction } from "@/lib/ledger";
import { triggerPayoutRun } from "@/lib/payouts/run";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { payoutRows, seedPayee, useAppEnv } from "./helpers";

// What planning pays at the edges: the platform threshold (PAYOUT_MIN_THRESHOLD_CENTS = 1000 here)
// and a payee's own minimum, each to the cent, and money an escrow hold keeps.

let t: TestDb;
let ts: TestStripe;
const actor = systemActor("test");

beforeAll(async () => {
  t = await createTestDb();
  ts = await startTestStripe();
  useAppEnv(t.db, ts.simulator.url, { PAYOUT_MIN_THRESHOLD_CENTS: "1000" });
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

/** Plan a run for these payees only; each payee's payout row (amount, status, skip reason). */
async function plan(cycleDate: string, payeeIds: string[]) {
  // Planning alone: nothing here executes the run, so the payouts stay planned.
  const trig = await triggerPayoutRun(t.db, getEnv(), { cycleDate, payeeIds, trigger: "manual", actor });
  if (trig.kind !== "run") throw new Error(`expected a run, got ${trig.kind}`);
  const rows = await payoutRows(t.db, trig.runId);
  return (payeeId: string) => {
    const r = rows.find((x) => x.payee_id === payeeId);
    return r ? [Number(r.amount_cents), r.status === "skipped" ? r.skip_reason : "paid"] : null;
  };
}

describe("planning at the edges", () => {
  it("pays a balance of exactly the threshold and skips one a cent below it", async () => {
    const at = await seedPayee(t.db, ts, { platformCents: 1000 });
    const below = await seedPayee(t.db, ts, { platformCents: 999 });
    const of = await plan("2031-02-01", [at.payeeId, below.payeeId]);
    expect(of(at.payeeId)).toEqual([1000, "paid"]);
    expect(of(below.payeeId)).toEqual([999, "below_threshold"]);
  });

  it("pays a balance of exactly the payee's own minimum and skips one a cent below it", async () => {
    const at = await seedPayee(t.db, ts, { platformCents: 5000, minimumPayoutCents: 5000 });
    const below = await seedPayee(t.db, ts, { platformCents: 4999, minimumPayoutCents: 5000 });
    const of = await plan("2031-02-15", [at.payeeId, below.payeeId]);
    expect(of(at.payeeId)).toEqual([5000, "paid"]);
    expect(of(below.payeeId)).toEqual([4999, "below_threshold"]);
  });

  it("money an escrow hold keeps is not paid out; the rest is", async () => {
    const payee = await seedPayee(t.db, ts, { platformCents: 5000 });
    // a funded hold: available -> held
    await postLedgerTransaction(t.db, {
      idempotencyKey: `test-hold:${payee.payeeId}`,
      kind: "escrow_hold",
      description: "hold",
      currency: "usd",
      payeeId: payee.payeeId,
      lines: [
        { payeeId: payee.payeeId, kind: "available", amount: -3000 },
        { payeeId: payee.payeeId, kind: "held", amount: 3000 },
      ],
    });
    const of = await plan("2031-03-01", [payee.payeeId]);
    expect(of(payee.payeeId)).toEqual([2000, "paid"]);
  });
});
