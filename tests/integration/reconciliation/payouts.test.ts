import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as runRoute } from "@/app/internal/payouts/run/route";
import { systemActor } from "@/lib/actor";
import { getEnv, loadEnv } from "@/lib/env";
import { platformBalances, postLedgerTransaction } from "@/lib/ledger";
import { executePayoutRun } from "@/lib/payouts/execute";
import { triggerPayoutRun } from "@/lib/payouts/run";
import { listOpenBreaks } from "@/lib/reconciliation/breaks";
import { reconcileNow } from "@/lib/reconciliation/pass";
import { latestCycle } from "@/lib/payouts/cycle";
import { createTestDb, type TestDb } from "../../support/db";
import { StripeFlow } from "../../support/stripe-flow";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { internalRequest, payoutRows, routeCtx, seedPayee, useAppEnv } from "../payouts/helpers";

// A payout run's money as Stripe moved it: the transfer from the platform, its payment on the
// connected account, the payout, a payout that failed and came back, and Stripe's processing fee on
// a charge. One pass finds no break.

const env = loadEnv({ RECON_GRACE_SECONDS: "0" });
let t: TestDb;
let ts: TestStripe;
let flow: StripeFlow;

beforeAll(async () => {
  t = await createTestDb();
  ts = await startTestStripe();
  useAppEnv(t.db, ts.simulator.url);
  flow = new StripeFlow(t.db, ts);
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

describe("reconciliation of a payout run", () => {
  it("transfers, payouts paid and failed, and processing fees agree with Stripe to the cent", async () => {
    const paid = await seedPayee(t.db, ts, { platformCents: 3_000, name: "Paid" });
    const bounced = await seedPayee(t.db, ts, { platformCents: 2_000, name: "Bounced" });
    const res = await runRoute(
      internalRequest("POST", "/internal/payouts/run", {
        cycleDate: latestCycle(new Date(), "UTC").cycleDate,
      }),
      routeCtx(),
    );
    const runId = ((await res.json()) as { runId: string }).runId;
    const rows = await payoutRows(t.db, runId);
    const payoutOf = (payeeId: string) =>
      rows.find((r) => r.payee_id === payeeId)!.stripe_payout_id as string;
    ts.simulator.settlePayout(payoutOf(paid.payeeId), "paid");
    ts.simulator.settlePayout(payoutOf(bounced.payeeId), "failed", "account_closed");
    flow.watch(paid.accountId);
    flow.watch(bounced.accountId);
    expect((await flow.deliverNew()).filter((s) => s.startsWith("payout."))).toEqual(
      expect.arrayContaining(["payout.paid:processed", "payout.failed:processed"]),
    );

    // Stripe's processing fee, stated only on the charge's balance transaction.
    ts.simulator.setProcessingFee({ percentBasisPoints: 290, fixedCents: 30 });
    const earner = await flow.payee("fee-earner");
    ts.simulator.createDestinationCharge({
      destination: earner.account,
      amount: 10_000,
      applicationFeeAmount: 1_000,
    });
    ts.simulator.setProcessingFee({ percentBasisPoints: 0, fixedCents: 0 });
    await flow.deliverNew();

    await reconcileNow(t.db, ts.gateway, env);
    expect(await listOpenBreaks(t.db)).toEqual([]);
    // $100.00 at 2.9% + 30¢
    expect((await platformBalances(t.db, "stripe_fees")).usd).toBe(-320);
  });

  it("a payout made of money on the connected account and a transfer agrees with Stripe to the cent", async () => {
    // $90 from a destination charge (on the connected account, through the webhooks) and $20 of
    // placement money on the platform: the run transfers $20 and pays out $110.
    const mixed = await flow.payee("mixed");
    ts.simulator.createDestinationCharge({ destination: mixed.account, amount: 10_000, applicationFeeAmount: 1_000 });
    await flow.deliverNew();
    await postLedgerTransaction(t.db, {
      idempotencyKey: `placement:${mixed.payeeId}`,
      kind: "placement_share",
      description: "placement share",
      currency: "usd",
      payeeId: mixed.payeeId,
      lines: [
        { kind: "stripe_clearing", amount: -2_000 },
        { payeeId: mixed.payeeId, kind: "available", amount: 2_000 },
      ],
    });
    // onboarded at Stripe; the flags as account.updated would have copied them
    await t.db.execute(sql`update connected_accounts set charges_enabled = true, payouts_enabled = true, details_submitted = true
                           where payee_id = ${mixed.payeeId}`);
    const trig = await triggerPayoutRun(t.db, getEnv(), { cycleDate: "2031-01-01", payeeIds: [mixed.payeeId], trigger: "manual", actor: systemActor("test") });
    if (trig.kind !== "run") throw new Error("no run");
    await executePayoutRun(t.db, getEnv(), ts.gateway, { runId: trig.runId, deadline: Date.now() + 60_000 });
    const [row] = await payoutRows(t.db, trig.runId);
    expect([row!.status, row!.skip_reason]).toEqual(["in_transit", null]);
    expect([Number(row!.amount_cents), Number(row!.transfer_amount_cents)]).toEqual([11_000, 2_000]);
    ts.simulator.settlePayout(row!.stripe_payout_id as string, "paid");
    flow.watch(mixed.account);
    expect(await flow.deliverNew()).toContain("payout.paid:processed");
    await reconcileNow(t.db, ts.gateway, env);
    expect(await listOpenBreaks(t.db)).toEqual([]);
  });
});
