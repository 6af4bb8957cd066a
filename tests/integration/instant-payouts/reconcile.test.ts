import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemActor } from "@/lib/actor";
import { loadEnv } from "@/lib/env";
import { quoteInstantPayout, requestInstantPayout } from "@/lib/instant-payouts";
import { payeeBalancesByLocation } from "@/lib/ledger";
import { listOpenBreaks } from "@/lib/reconciliation/breaks";
import { reconcileNow } from "@/lib/reconciliation/pass";
import { createTestDb, type TestDb } from "../../support/db";
import { StripeFlow } from "../../support/stripe-flow";
import { startTestStripe, type TestStripe } from "../../support/stripe";

// An instant payout's postings carry what Stripe moved (the account debit of the fee, the payout, a
// failed payout's return), so the hourly reconciliation finds no break, paid or failed.

const env = loadEnv({ RECON_GRACE_SECONDS: "0" });
let t: TestDb;
let ts: TestStripe;
let flow: StripeFlow;

beforeAll(async () => {
  t = await createTestDb();
  ts = await startTestStripe();
  flow = new StripeFlow(t.db, ts);
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

async function instantFor(label: string, failureCode?: string) {
  const payee = await flow.payee(label);
  flow.watch(payee.account);
  ts.simulator.createDestinationCharge({
    destination: payee.account,
    amount: 10_000,
    applicationFeeAmount: 1_000,
  });
  await flow.deliverNew();
  ts.simulator.addDebitCard(payee.account, { failureCode });
  const q = await quoteInstantPayout(t.db, ts.gateway, env, { payeeId: payee.payeeId, currency: "usd" });
  expect(q).toMatchObject({ eligible: true, amountCents: 9_000, feeCents: 135 });
  const { payout } = await requestInstantPayout(t.db, ts.gateway, env, {
    payeeId: payee.payeeId,
    currency: "usd",
    amountCents: q.amountCents,
    expectedFeeCents: q.feeCents,
    requestKey: `recon-${label}`,
    actor: systemActor("test"),
  });
  expect(payout.status).toBe("in_transit");
  return payee;
}

describe("instant payouts reconcile", () => {
  it("paid and failed instant payouts leave no break, and the connected balances agree", async () => {
    const paid = await instantFor("instant-paid");
    const failed = await instantFor("instant-declined", "declined");
    ts.simulator.advanceClock(3600);
    const delivered = await flow.deliverNew();
    expect(delivered).toEqual(expect.arrayContaining(["payout.paid:processed", "payout.failed:processed"]));
    await reconcileNow(t.db, ts.gateway, env);
    expect(await listOpenBreaks(t.db, { limit: 100 })).toEqual([]);
    for (const p of [paid, failed])
      expect(await flow.ledgerOnConnected(p.payeeId)).toBe(flow.stripeBalance(p.account));
    // the declined payee has it all back: the payout on the connected account, the fee on the platform
    const rows = await payeeBalancesByLocation(t.db, failed.payeeId);
    const available = rows.filter((r) => r.kind === "available").reduce((s, r) => s + r.balance, 0);
    expect(available).toBe(9_000);
  });
});
