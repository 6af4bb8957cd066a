import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { escrowHolds } from "@/db/schema";
import { activeHoldTotalByPlacement, createEscrowHold, endEscrowHold } from "@/lib/escrow/holds";
import { escrowReleasesSweep } from "@/lib/escrow/release-sweep";
import { LedgerError, payeeBalances, postLedgerTransaction, unbalancedTransactions } from "@/lib/ledger";
import { runSweep } from "@/lib/sweeps/run";
import { createTestDb, type TestDb } from "../../support/db";
import { admin, DAY_MS, makeExpiredPlacement, makePayee } from "../sweeps/helpers";

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(() => t.close());

async function fundedPayee(name: string, cents: number) {
  const payee = await makePayee(t.db, name);
  await postLedgerTransaction(t.db, {
    idempotencyKey: `seed-${payee.id}`,
    kind: "earning",
    description: "seed",
    currency: "usd",
    payeeId: payee.id,
    lines: [
      { kind: "stripe_clearing", amount: -cents },
      { payeeId: payee.id, kind: "available", amount: cents },
    ],
  });
  return payee;
}

describe("escrow holds", () => {
  it("a hold moves available to held; release and cancel both return it, with their own status", async () => {
    const payee = await fundedPayee("Hannah Hold", 10_000);
    const a = await createEscrowHold(t.db, {
      payeeId: payee.id,
      amountCents: 3_000,
      reason: "review",
      actor: admin,
    });
    const b = await createEscrowHold(t.db, {
      payeeId: payee.id,
      amountCents: 2_000,
      reason: "oops",
      actor: admin,
    });
    expect(a).toMatchObject({ kind: "manual", status: "active", currency: "usd" });
    expect((await payeeBalances(t.db, payee.id)).usd).toMatchObject({ available: 5_000, held: 5_000 });

    expect((await endEscrowHold(t.db, { id: a.id, outcome: "released", actor: admin })).status).toBe(
      "released",
    );
    const cancelled = await endEscrowHold(t.db, {
      id: b.id,
      outcome: "cancelled",
      actor: admin,
      reason: "wrong payee",
    });
    expect(cancelled).toMatchObject({ status: "cancelled", releasedAt: null });
    expect(cancelled.cancelledAt).not.toBeNull();
    expect((await payeeBalances(t.db, payee.id)).usd).toMatchObject({ available: 10_000, held: 0 });
    await expect(endEscrowHold(t.db, { id: a.id, outcome: "released", actor: admin })).rejects.toMatchObject({
      code: "conflict",
    });
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });

  it("refuses a hold larger than the available balance and writes nothing", async () => {
    const payee = await fundedPayee("Poor Pete", 1_000);
    await expect(
      createEscrowHold(t.db, { payeeId: payee.id, amountCents: 1_001, reason: "too much", actor: admin }),
    ).rejects.toBeInstanceOf(LedgerError);
    expect(await t.db.select().from(escrowHolds).where(eq(escrowHolds.payeeId, payee.id))).toEqual([]);
  });

  it("the sweep releases due holds of every kind, and never a dispute hold without a date", async () => {
    const payee = await fundedPayee("Reserve Rae", 10_000);
    const now = new Date();
    const reserve = await createEscrowHold(t.db, {
      payeeId: payee.id,
      kind: "rolling_reserve",
      amountCents: 1_000,
      reason: "rolling reserve",
      releaseAt: new Date(now.getTime() - 1000),
      sourceRef: `run-1:${payee.id}`,
      actor: admin,
    });
    const future = await createEscrowHold(t.db, {
      payeeId: payee.id,
      amountCents: 1_000,
      reason: "later",
      releaseAt: new Date(now.getTime() + DAY_MS),
      actor: admin,
    });
    const dispute = await createEscrowHold(t.db, {
      payeeId: payee.id,
      kind: "dispute",
      amountCents: 1_000,
      reason: "dp_123 opened",
      sourceRef: "dp_123",
      actor: admin,
    });
    expect(await runSweep(t.db, escrowReleasesSweep, { now })).toMatchObject({
      processed: 1,
      failed: 0,
      remaining: 0,
    });
    const status = async (id: string) =>
      (await t.db.select().from(escrowHolds).where(eq(escrowHolds.id, id)))[0]!.status;
    expect(await status(reserve.id)).toBe("released");
    expect(await status(future.id)).toBe("active");
    const far = new Date(now.getTime() + 365 * DAY_MS);
    expect((await runSweep(t.db, escrowReleasesSweep, { now: far })).processed).toBe(1);
    expect(await status(dispute.id)).toBe("active");
    expect((await payeeBalances(t.db, payee.id)).usd).toMatchObject({ available: 9_000, held: 1_000 });
  });

  it("totals active holds by placement and caps them at the payee's share", async () => {
    const payee = await makePayee(t.db, "Placed Paula");
    const placement = await makeExpiredPlacement(t.db, {
      payeeId: payee.id,
      customer: "cus_x",
      shareCents: 6_000,
    });
    await createEscrowHold(t.db, {
      placementId: placement.id,
      amountCents: 4_000,
      reason: "escrow",
      actor: admin,
    });
    await expect(
      createEscrowHold(t.db, { placementId: placement.id, amountCents: 2_001, reason: "more", actor: admin }),
    ).rejects.toMatchObject({ code: "conflict" });
    expect(await activeHoldTotalByPlacement(t.db, { placementId: placement.id })).toEqual({
      placementId: placement.id,
      totals: [{ currency: "usd", amountCents: 4_000, count: 1 }],
    });
  });

  it("refuses to end a dispute hold by hand, and to cancel a rolling reserve (409, nothing moves)", async () => {
    const payee = await fundedPayee("Disputed Dora", 10_000);
    const dispute = await createEscrowHold(t.db, {
      payeeId: payee.id,
      kind: "dispute",
      amountCents: 2_000,
      reason: "dp_by_hand opened",
      sourceRef: "dp_by_hand",
      actor: admin,
    });
    const reserve = await createEscrowHold(t.db, {
      payeeId: payee.id,
      kind: "rolling_reserve",
      amountCents: 1_000,
      reason: "rolling reserve",
      sourceRef: `pi_by_hand:${payee.id}`,
      releaseAt: new Date(Date.now() + DAY_MS),
      actor: admin,
    });
    for (const outcome of ["released", "cancelled"] as const) {
      await expect(endEscrowHold(t.db, { id: dispute.id, outcome, actor: admin })).rejects.toMatchObject({
        code: "conflict",
      });
    }
    await expect(
      endEscrowHold(t.db, { id: reserve.id, outcome: "cancelled", actor: admin }),
    ).rejects.toMatchObject({
      code: "conflict",
    });
    expect((await payeeBalances(t.db, payee.id)).usd).toMatchObject({ available: 7_000, held: 3_000 });
    // An early release of the reserve by an admin is allowed.
    expect((await endEscrowHold(t.db, { id: reserve.id, outcome: "released", actor: admin })).status).toBe(
      "released",
    );
    expect((await payeeBalances(t.db, payee.id)).usd).toMatchObject({ available: 8_000, held: 2_000 });
  });
});
