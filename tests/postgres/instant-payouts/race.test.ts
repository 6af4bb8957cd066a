import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { payouts } from "../../../db/schema";
import { systemActor } from "../../../lib/actor";
import { DomainError } from "../../../lib/errors";
import { getEnv } from "../../../lib/env";
import { requestInstantPayout } from "../../../lib/instant-payouts";
import { payeeBalances, unbalancedTransactions } from "../../../lib/ledger";
import { triggerAndExecutePayoutRun } from "../../../lib/payouts/run";
import { seedPayee, useAppEnv } from "../../integration/payouts/helpers";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";

// Only a real server proves this: an instant payout and the scheduled run claim the same balance at
// the same moment, on two connections. Both take the ledger's balance freeze before they read it, so
// one of them takes the money and the other finds it gone: exactly one payout leaves, at Stripe too.

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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("an instant payout racing the run for one balance", () => {
  it("exactly one of them pays, every time, and each side wins some rounds", async () => {
    const env = getEnv();
    const instantPool = t.connect(4);
    const runPool = t.connect(4);
    const wins = { instant: 0, run: 0 };
    for (let round = 0; round < 12; round++) {
      const p = await seedPayee(t.db, ts, { connectedCents: 5_000 + round });
      ts.simulator.addDebitCard(p.accountId);
      const amount = 5_000 + round;
      const fee = Math.max(50, Math.round((amount * 150) / 10_000));
      // alternate a small head start so both orders happen, and sometimes none at all
      const instantDelay = round % 3 === 0 ? 0 : round % 3 === 1 ? 5 : 0;
      const runDelay = round % 3 === 2 ? 5 : 0;
      const [instant, run] = await Promise.allSettled([
        sleep(instantDelay).then(() =>
          requestInstantPayout(instantPool.db, ts.gateway, env, {
            payeeId: p.payeeId,
            currency: "usd",
            amountCents: amount,
            expectedFeeCents: fee,
            requestKey: `race-${round}-instant`,
            actor: systemActor("payee"),
          }),
        ),
        sleep(runDelay).then(() =>
          triggerAndExecutePayoutRun(runPool.db, env, ts.gateway, {
            cycleDate: `2027-0${1 + (round % 9)}-${round < 9 ? "01" : "15"}`,
            payeeIds: [p.payeeId],
            trigger: "schedule",
            actor: systemActor("schedule"),
          }),
        ),
      ]);
      expect(run.status).toBe("fulfilled");
      // the instant side either paid, or was told the money is gone (a conflict), nothing else
      if (instant.status === "rejected") {
        expect(instant.reason).toBeInstanceOf(DomainError);
        expect((instant.reason as DomainError).code).toBe("conflict");
      }
      const rows = (await t.db.select().from(payouts).where(eq(payouts.payeeId, p.payeeId))).filter(
        (r) => r.status !== "skipped",
      );
      expect(rows).toHaveLength(1);
      const winner = rows[0]!;
      expect(winner.status).toBe("in_transit");
      wins[winner.origin === "instant" ? "instant" : "run"]++;
      // at Stripe: one payout left the connected account, for the whole balance (less the fee if instant)
      const atStripe = await ts.stripe.payouts.list({ limit: 10 }, { stripeAccount: p.accountId });
      expect(atStripe.data).toHaveLength(1);
      expect(atStripe.data[0]!.amount).toBe(winner.origin === "instant" ? amount - fee : amount);
      expect(atStripe.data[0]!.method).toBe(winner.origin === "instant" ? "instant" : "standard");
      expect((await payeeBalances(t.db, p.payeeId)).usd?.available).toBe(0);
    }
    expect(wins.instant + wins.run).toBe(12);
    expect(wins.instant).toBeGreaterThan(0);
    expect(wins.run).toBeGreaterThan(0);
    expect(await unbalancedTransactions(t.db)).toEqual([]);
    await instantPool.close();
    await runPool.close();
  });
});
