import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as runRoute } from "@/app/internal/payouts/run/route";
import { queryRows } from "@/db/client";
import { payouts } from "@/db/schema";
import { systemActor } from "@/lib/actor";
import { resetEnvCache } from "@/lib/env";
import type { EndpointFaults } from "@/lib/stripe/simulator/faults";
import { claimInstantPayout, executeInstantPayout } from "@/lib/instant-payouts";
import { payeeBalances, platformBalances, unbalancedTransactions } from "@/lib/ledger";
import { latestCycle } from "@/lib/payouts/cycle";
import { tokenFor } from "../../support/auth";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { internalRequest, routeCtx, seedPayee, useAppEnv } from "../payouts/helpers";
import {
  counts,
  instantPayoutsAtStripe,
  payeeToken,
  payoutEvents,
  quote,
  quoteAndTake,
  sweep,
  take,
  transfersAtStripe,
} from "./helpers";

let t: TestDb;
let ts: TestStripe;
let deliverPayouts: (account: string) => Promise<string[]>;
const env = {
  INSTANT_PAYOUT_FEE_PERCENT: 1.5,
  INSTANT_PAYOUT_FEE_MIN_CENTS: 50,
  INSTANT_PAYOUT_DAILY_COUNT: 3,
  INSTANT_PAYOUT_DAILY_LIMIT_CENTS: 500_000,
  PAYOUTS_PAUSED: false,
};

beforeAll(async () => {
  t = await createTestDb();
  ts = await startTestStripe();
  useAppEnv(t.db, ts.simulator.url);
  deliverPayouts = payoutEvents(t.db, ts);
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

const row = async (id: string) => (await t.db.select().from(payouts).where(eq(payouts.id, id)))[0]!;
const fees = async () => (await platformBalances(t.db, "fees")).usd ?? 0;

describe("instant payouts on demand", () => {
  it("quotes the fee first, pays by instant payout at Stripe, and settles from payout.paid", async () => {
    const p = await seedPayee(t.db, ts, { connectedCents: 10_000 });
    ts.simulator.addDebitCard(p.accountId);
    const token = await payeeToken(p.payeeId);
    const q = await quote(p.payeeId, token);
    expect(q.status).toBe(200);
    expect(q.body).toMatchObject({
      eligible: true,
      amountCents: 10_000,
      feeCents: 150,
      netCents: 9_850,
      maxAmountCents: 10_000,
      reason: null,
    });
    expect(q.body.card?.last4).toBe("5556");
    // a smaller amount: the minimum fee applies
    expect((await quote(p.payeeId, token, "?amountCents=2000")).body).toMatchObject({
      amountCents: 2000,
      feeCents: 50,
      netCents: 1950,
    });
    const feesBefore = await fees();

    const confirmed = {
      currency: "usd",
      amountCents: 10_000,
      expectedFeeCents: 150,
      requestKey: "first-request-key",
    };
    const res = await take(p.payeeId, token, confirmed);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: "in_transit",
      amountCents: 10_000,
      feeCents: 150,
      netCents: 9_850,
    });
    const at = instantPayoutsAtStripe(ts, res.body.id);
    expect(at).toHaveLength(1);
    expect(at[0]).toMatchObject({ amount: 9_850, method: "instant", type: "card" });
    // the fee sat on the connected account: one account debit took it to the platform
    const debits = transfersAtStripe(ts, res.body.id);
    expect(debits.map((d) => [d.amount, d.destination])).toEqual([[150, ts.simulator.platformAccountId]]);
    expect((await payeeBalances(t.db, p.payeeId)).usd).toMatchObject({ available: 0, in_transit: 9_850 });
    expect((await fees()) - feesBefore).toBe(150);
    // the connected account at Stripe holds what the ledger says is there: nothing
    expect(ts.simulator.balances(p.accountId).balances[0]?.available).toBe(0);

    // the same confirmation again: the same payout, nothing new at Stripe
    const again = await take(p.payeeId, token, confirmed);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(res.body.id);
    expect(instantPayoutsAtStripe(ts, res.body.id)).toHaveLength(1);

    ts.simulator.advanceClock(3600);
    expect(await deliverPayouts(p.accountId)).toContain("payout.paid:processed");
    expect((await row(res.body.id)).status).toBe("paid");
    expect((await payeeBalances(t.db, p.payeeId)).usd).toMatchObject({
      available: 0,
      in_transit: 0,
      paid: 9_850,
    });
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });

  it("money on the platform is transferred first and the fee kept there, with no account debit", async () => {
    const p = await seedPayee(t.db, ts, { platformCents: 3_000, connectedCents: 1_000 });
    ts.simulator.addDebitCard(p.accountId);
    const res = await quoteAndTake(p.payeeId, await payeeToken(p.payeeId));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: "in_transit",
      amountCents: 4_000,
      feeCents: 60,
      netCents: 3_940,
    });
    const r = await row(res.body.id);
    expect(r).toMatchObject({
      transferAmountCents: 2_940,
      feeDebitCents: 0,
      method: "instant",
      origin: "instant",
    });
    const transfers = transfersAtStripe(ts, res.body.id);
    expect(transfers.map((x) => [x.amount, x.destination])).toEqual([[2_940, p.accountId]]);
    expect(instantPayoutsAtStripe(ts, res.body.id)[0]).toMatchObject({ amount: 3_940 });
  });

  it("a card that declines: payout.failed keeps Stripe's code, money and fee go back to available", async () => {
    const p = await seedPayee(t.db, ts, { connectedCents: 5_000 });
    ts.simulator.addDebitCard(p.accountId, { failureCode: "declined" });
    const feesBefore = await fees();
    const res = await quoteAndTake(p.payeeId, await payeeToken(p.payeeId));
    expect(res.body.status).toBe("in_transit");
    ts.simulator.advanceClock(3600);
    expect(await deliverPayouts(p.accountId)).toContain("payout.failed:processed");
    const r = await row(res.body.id);
    expect(r).toMatchObject({
      status: "failed",
      failureCode: "declined",
      failureMessage: "The bank has declined this transfer.",
    });
    // all of it back: the payout's 4,925 on the connected account, the 75 fee on the platform (Stripe kept the debit)
    const usd = (await payeeBalances(t.db, p.payeeId)).usd!;
    expect(usd).toMatchObject({ available: 5_000, in_transit: 0, paid: 0 });
    expect(await fees()).toBe(feesBefore);
    // the alert is queued with the failure
    const [alert] = await queryRows<{ n: string }>(
      t.db,
      sql`select count(*) as n from outbox_events where type = 'alert.payout_failed' and aggregate_id = ${res.body.id}`,
    );
    expect(Number(alert!.n)).toBe(1);
    // the next scheduled run pays it (the money is available again)
  });

  it("instant_available too low at Stripe: Stripe's 400 fails it with the reason, nothing leaves", async () => {
    const p = await seedPayee(t.db, ts, { connectedCents: 8_000 });
    ts.simulator.addDebitCard(p.accountId);
    // the quote sees Stripe's instant_available
    ts.simulator.setInstantCap(p.accountId, 3_000);
    const token = await payeeToken(p.payeeId);
    expect((await quote(p.payeeId, token)).body).toMatchObject({ maxAmountCents: 3_000, amountCents: 3_000 });
    const over = await take(p.payeeId, token, {
      currency: "usd",
      amountCents: 5_000,
      expectedFeeCents: 75,
      requestKey: "over-the-cap-1",
    });
    expect(over.status).toBe(409);
    // Stripe lowers it between our check and the payout: its 400 fails the payout
    const owner = "test-owner";
    const claimed = await claimInstantPayout(t.db, env, {
      payeeId: p.payeeId,
      currency: "usd",
      amountCents: 3_000,
      expectedFeeCents: 50,
      requestKey: "cap-drops-1",
      actor: systemActor("test"),
      stripeAccountId: p.accountId,
      owner,
    });
    ts.simulator.setInstantCap(p.accountId, 100);
    const outcome = await executeInstantPayout(
      { db: t.db, gateway: ts.gateway, actor: systemActor("test"), owner },
      claimed.payout.id,
    );
    expect(outcome).toBe("failed");
    const r = await row(claimed.payout.id);
    expect(r.status).toBe("failed");
    expect(r.failureCode).toBe("balance_insufficient");
    expect(r.failureMessage).toContain("instant_available");
    expect(instantPayoutsAtStripe(ts, claimed.payout.id)).toHaveLength(0);
    expect((await payeeBalances(t.db, p.payeeId)).usd).toMatchObject({ available: 8_000, in_transit: 0 });
    // the fee's debit went through before Stripe refused the payout: the money is back on the platform side
    expect(ts.simulator.balances(p.accountId).balances[0]?.available).toBe(8_000 - 50);
  });

  it("no eligible card, nothing available, payouts paused: a reason, and POST refuses without writing", async () => {
    const noCard = await seedPayee(t.db, ts, { connectedCents: 5_000 });
    const token = await payeeToken(noCard.payeeId);
    const q = await quote(noCard.payeeId, token);
    expect(q.body).toMatchObject({ eligible: false, card: null });
    expect(q.body.reason).toMatch(/debit card/);
    const before = await counts(t.db);
    const res = await take(noCard.payeeId, token, {
      currency: "usd",
      amountCents: 5_000,
      expectedFeeCents: 75,
      requestKey: "no-card-1234",
    });
    expect(res.status).toBe(412);
    expect(await counts(t.db)).toEqual(before);
    expect(instantPayoutsAtStripe(ts).filter((po) => po.destination === noCard.accountId)).toHaveLength(0);

    const empty = await seedPayee(t.db, ts, {});
    ts.simulator.addDebitCard(empty.accountId);
    const eq0 = await quote(empty.payeeId, await payeeToken(empty.payeeId));
    expect(eq0.body).toMatchObject({ eligible: false, maxAmountCents: 0 });
  });

  it("a fee that differs from the one confirmed, and the daily count limit, are conflicts without a write", async () => {
    const p = await seedPayee(t.db, ts, { connectedCents: 20_000 });
    ts.simulator.addDebitCard(p.accountId);
    const token = await payeeToken(p.payeeId);
    const before = await counts(t.db);
    const wrongFee = await take(p.payeeId, token, {
      currency: "usd",
      amountCents: 10_000,
      expectedFeeCents: 50,
      requestKey: "wrong-fee-1",
    });
    expect(wrongFee.status).toBe(409);
    expect(wrongFee.body.error?.message).toMatch(/fee for this amount is 150 cents/);
    expect(await counts(t.db)).toEqual(before);
    process.env.INSTANT_PAYOUT_DAILY_COUNT = "2";
    resetEnvCache();
    try {
      for (const key of ["daily-1-abc", "daily-2-abc"]) {
        const ok = await take(p.payeeId, token, {
          currency: "usd",
          amountCents: 2_000,
          expectedFeeCents: 50,
          requestKey: key,
        });
        expect(ok.status).toBe(201);
      }
      const mid = await counts(t.db);
      const third = await take(p.payeeId, token, {
        currency: "usd",
        amountCents: 2_000,
        expectedFeeCents: 50,
        requestKey: "daily-3-abc",
      });
      expect(third.status).toBe(409);
      expect(third.body.error?.message).toMatch(/most allowed per day/);
      expect(await counts(t.db)).toEqual(mid);
      expect((await quote(p.payeeId, token)).body).toMatchObject({ eligible: false });
    } finally {
      delete process.env.INSTANT_PAYOUT_DAILY_COUNT;
      resetEnvCache();
    }
  });

  it("never overlaps the run: whichever claims the balance first pays it, the other finds it gone", async () => {
    const cycleDate = latestCycle(new Date(), "UTC").cycleDate;
    // instant first: the run finds nothing of this payee's to pay
    const first = await seedPayee(t.db, ts, { connectedCents: 6_000 });
    ts.simulator.addDebitCard(first.accountId);
    expect((await quoteAndTake(first.payeeId, await payeeToken(first.payeeId))).status).toBe(201);
    // the run second, for both payees (the second payee's money is then in the run)
    const second = await seedPayee(t.db, ts, { connectedCents: 7_000 });
    ts.simulator.addDebitCard(second.accountId);
    const res = await runRoute(
      internalRequest("POST", "/internal/payouts/run", {
        cycleDate,
        payeeIds: [first.payeeId, second.payeeId],
      }),
      routeCtx(),
    );
    expect(res.status).toBe(202);
    const ran = await queryRows<{ payee_id: string; amount_cents: string; status: string }>(
      t.db,
      sql`select payee_id, amount_cents, status from payouts where origin = 'run' and payee_id in (${first.payeeId}, ${second.payeeId})`,
    );
    expect(ran.map((r) => [r.payee_id, Number(r.amount_cents)])).toEqual([[second.payeeId, 7_000]]);
    // the run took the second payee's balance: an instant payout finds it gone
    const q = await quote(second.payeeId, await payeeToken(second.payeeId));
    expect(q.body).toMatchObject({ eligible: false, availableCents: 0 });
    const late = await take(second.payeeId, await payeeToken(second.payeeId), {
      currency: "usd",
      amountCents: 7_000,
      expectedFeeCents: 105,
      requestKey: "after-the-run",
    });
    expect(late.status).toBe(409);
    // at Stripe: the first payee's money left once, by instant payout; the second's once, by the run
    const madeFor = async (payeeId: string) => {
      const rows = await t.db.select().from(payouts).where(eq(payouts.payeeId, payeeId));
      return rows.map((r) => [r.origin, r.method, r.status]);
    };
    expect(await madeFor(first.payeeId)).toEqual([["instant", "instant", "in_transit"]]);
    expect(await madeFor(second.payeeId)).toEqual([["run", "standard", "in_transit"]]);
  });
});

describe("crash safety: the resume sweep", () => {
  it("an instant payout whose invocation died after the claim is paid by the sweep once its lease runs out", async () => {
    const p = await seedPayee(t.db, ts, { connectedCents: 4_000 });
    ts.simulator.addDebitCard(p.accountId);
    const claimed = await claimInstantPayout(t.db, env, {
      payeeId: p.payeeId,
      currency: "usd",
      amountCents: 4_000,
      expectedFeeCents: 60,
      requestKey: "dies-after-claim",
      actor: systemActor("test"),
      stripeAccountId: p.accountId,
      owner: "dead-invocation",
    });
    // keys stored before any call
    expect(claimed.payout).toMatchObject({
      status: "processing",
      payoutIdempotencyKey: `payout:${claimed.payout.id}:payout`,
      feeIdempotencyKey: `payout:${claimed.payout.id}:fee`,
    });
    // within the lease the sweep leaves it alone
    expect((await sweep()).processed).toBe(0);
    await t.db.execute(
      sql`update payouts set lease_expires_at = now() - interval '1 second' where id = ${claimed.payout.id}`,
    );
    expect(await sweep()).toMatchObject({ processed: 1, remaining: 0 });
    expect((await row(claimed.payout.id)).status).toBe("in_transit");
    expect(instantPayoutsAtStripe(ts, claimed.payout.id)).toHaveLength(1);
  });

  it("died after Stripe made the payout but before we stored it: the sweep finds it at Stripe, sends nothing again", async () => {
    const p = await seedPayee(t.db, ts, { connectedCents: 4_500, platformCents: 500 });
    ts.simulator.addDebitCard(p.accountId);
    const owner = "crashing-invocation";
    const claimed = await claimInstantPayout(t.db, env, {
      payeeId: p.payeeId,
      currency: "usd",
      amountCents: 5_000,
      expectedFeeCents: 75,
      requestKey: "dies-after-payout",
      actor: systemActor("test"),
      stripeAccountId: p.accountId,
      owner,
    });
    // the invocation dies right after Stripe answered the payout
    const dying = {
      ...ts.gateway,
      createPayout: async (input: Parameters<typeof ts.gateway.createPayout>[0]) => {
        await ts.gateway.createPayout(input);
        throw new Error("invocation killed");
      },
    };
    expect(
      await executeInstantPayout(
        { db: t.db, gateway: dying, actor: systemActor("test"), owner },
        claimed.payout.id,
      ),
    ).toBe("deferred");
    expect((await row(claimed.payout.id)).status).toBe("processing");
    await t.db.execute(
      sql`update payouts set lease_expires_at = now() - interval '1 second' where id = ${claimed.payout.id}`,
    );
    // a new idempotency window would not save us: the lookup does
    expect(await sweep()).toMatchObject({ processed: 1 });
    const r = await row(claimed.payout.id);
    expect(r.status).toBe("in_transit");
    expect(instantPayoutsAtStripe(ts, claimed.payout.id)).toHaveLength(1);
    // the transfer of what the platform held, less the fee it kept: once
    expect(transfersAtStripe(ts, claimed.payout.id).map((x) => x.amount)).toEqual([425]);
    expect(r.stripePayoutId).toBe(instantPayoutsAtStripe(ts, claimed.payout.id)[0]!.id);
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });

  it("whatever faults Stripe injects, each instant payout is created once (the simulator's request log)", async () => {
    const made: string[] = [];
    const plans: Record<string, EndpointFaults>[] = [
      { "POST /v1/payouts": { dropCount: 1, dropPhase: "after" as const } },
      { "POST /v1/payouts": { errorCount: 2 } },
      {
        "POST /v1/transfers": { dropCount: 1, dropPhase: "after" as const },
        "POST /v1/payouts": { lockTimeoutCount: 1 },
      },
      { "POST /v1/payouts": { dropCount: 5, dropPhase: "after" as const } },
      { "POST /v1/transfers": { errorCount: 6 } },
    ];
    for (const [i, endpoints] of plans.entries()) {
      const p = await seedPayee(t.db, ts, { connectedCents: 3_000, platformCents: i % 2 === 0 ? 1_000 : 0 });
      ts.simulator.addDebitCard(p.accountId);
      const token = await payeeToken(p.payeeId);
      const q = await quote(p.payeeId, token);
      ts.simulator.setFaults({ endpoints });
      const res = await take(p.payeeId, token, {
        currency: "usd",
        amountCents: q.body.amountCents,
        expectedFeeCents: q.body.feeCents,
        requestKey: `faulty-${i}-key`,
      });
      ts.simulator.setFaults({});
      expect(res.status).toBe(201);
      // what the request could not finish, the sweep does
      for (let round = 0; round < 5 && (await row(res.body.id)).status === "processing"; round++) {
        await t.db.execute(
          sql`update payouts set lease_expires_at = now() - interval '1 second' where id = ${res.body.id}`,
        );
        await sweep();
      }
      expect((await row(res.body.id)).status).toBe("in_transit");
      made.push(res.body.id);
    }
    for (const id of made) {
      expect(instantPayoutsAtStripe(ts, id)).toHaveLength(1);
      const r = await row(id);
      expect(transfersAtStripe(ts, id)).toHaveLength(
        (r.transferAmountCents > 0 ? 1 : 0) + (r.feeDebitCents > 0 ? 1 : 0),
      );
    }
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });
});

describe("who may, and bad input", () => {
  it("the payee themselves or platform_admin; finance and other payees 403; no token 401", async () => {
    const p = await seedPayee(t.db, ts, { connectedCents: 5_000 });
    ts.simulator.addDebitCard(p.accountId);
    const other = await seedPayee(t.db, ts, { connectedCents: 5_000 });
    const body = { currency: "usd", amountCents: 1_000, expectedFeeCents: 50, requestKey: "roles-check-1" };
    const before = await counts(t.db);
    for (const token of [await tokenFor("finance"), await payeeToken(other.payeeId)]) {
      expect((await quote(p.payeeId, token)).status).toBe(403);
      expect((await take(p.payeeId, token, body)).status).toBe(403);
    }
    expect((await take(p.payeeId, "", body)).status).toBe(401);
    expect(await counts(t.db)).toEqual(before);
    const admin = await tokenFor("platform_admin");
    expect((await quote(p.payeeId, admin)).body.eligible).toBe(true);
    const byAdmin = await take(p.payeeId, admin, body);
    expect(byAdmin.status).toBe(201);
  });

  it("bad input is a 4xx and writes nothing", async () => {
    const p = await seedPayee(t.db, ts, { connectedCents: 5_000 });
    ts.simulator.addDebitCard(p.accountId);
    const token = await payeeToken(p.payeeId);
    const before = await counts(t.db);
    const bad: [unknown, number][] = [
      ["{not json", 400],
      [{ currency: "usd", amountCents: -5, expectedFeeCents: 50, requestKey: "bad-input-1" }, 400],
      [{ currency: "usd", amountCents: 10.5, expectedFeeCents: 50, requestKey: "bad-input-1" }, 400],
      [{ currency: "dollars", amountCents: 1_000, expectedFeeCents: 50, requestKey: "bad-input-1" }, 400],
      [{ currency: "usd", amountCents: 1_000, expectedFeeCents: 50, requestKey: "no" }, 400],
      [
        { currency: "usd", amountCents: 1_000, expectedFeeCents: 50, requestKey: "bad-input-1", extra: true },
        400,
      ],
      [{ currency: "usd", amountCents: 1_000, requestKey: "no-fee-confirmed" }, 400],
      [{ currency: "usd", amountCents: 1_000, expectedFeeCents: 50, requestKey: "bad\u0000input" }, 400],
      [{ currency: "usd", amountCents: 1_000, expectedFeeCents: 50, requestKey: "bad\ud800input" }, 400],
      [{ currency: "usd", amountCents: 40, expectedFeeCents: 50, requestKey: "less-than-fee" }, 409],
      [
        { currency: "usd", amountCents: 9_000, expectedFeeCents: 135, requestKey: "more-than-available" },
        409,
      ],
    ];
    for (const [body, status] of bad) {
      const res = await take(p.payeeId, token, body);
      expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), status]);
    }
    expect((await quote(p.payeeId, token, "?amountCents=abc")).status).toBe(400);
    expect((await quote(p.payeeId, token, "?currency=us")).status).toBe(400);
    expect((await quote("not-a-uuid", token)).status).toBe(400);
    expect(await counts(t.db)).toEqual(before);
  });
});
