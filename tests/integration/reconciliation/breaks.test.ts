import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { systemActor } from "@/lib/actor";
import { loadEnv } from "@/lib/env";
import { listOpenBreaks } from "@/lib/reconciliation/breaks";
import { reconciliationHealth } from "@/lib/reconciliation/health";
import { recordOutOfBandPayout } from "@/lib/reconciliation/out-of-band";
import { reconcileBatch, type ReconcileGateway, reconcileNow } from "@/lib/reconciliation/pass";
import { createTestDb, type TestDb } from "../../support/db";
import { StripeFlow } from "../../support/stripe-flow";
import { startTestStripe, type TestStripe } from "../../support/stripe";

// Each kind of break made on purpose at the simulator (its control API: a payout made by hand, a
// balance transaction Payrun never heard of, an amount changed after the fact, a webhook that never
// came), found by one pass; a rerun adds nothing; a late webhook closes its breaks; a pass killed
// between two pages resumes without a duplicate.

const env = loadEnv({ RECON_GRACE_SECONDS: "0" });
const actor = systemActor("test");

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

async function chargedPayee(label: string, amount = 5_000) {
  const payee = await flow.payee(label);
  const pi = ts.simulator.createDestinationCharge({
    destination: payee.account,
    amount,
    applicationFeeAmount: amount / 10,
  });
  return { ...payee, pi: pi.id as string, charge: pi.latest_charge as string };
}

async function openBreaks() {
  return (await listOpenBreaks(t.db, { limit: 1000 })).map((b) => ({
    kind: b.kind,
    account: b.account,
    object: b.stripeObject,
    stripe: b.stripeAmount,
    ledger: b.ledgerAmount,
  }));
}

async function lastPass() {
  const [row] = await queryRows<{
    status: string;
    breaks_opened: number;
    breaks_closed: number;
    accounts_total: number;
    accounts_done: number;
    failures: number;
  }>(
    t.db,
    sql`select status, breaks_opened, breaks_closed, accounts_total, accounts_done, failures from reconciliation_runs order by started_at desc limit 1`,
  );
  return row!;
}

describe("reconciliation", () => {
  it("money that went through Payrun as Stripe moved it is no break", async () => {
    const a = await chargedPayee("rec-clean");
    await flow.deliverNew();
    await ts.gateway.createRefund({
      paymentIntent: a.pi,
      amount: 1_000,
      reverseTransfer: true,
      refundApplicationFee: true,
      idempotencyKey: "rec-clean-r1",
    });
    await flow.deliverNew();
    await reconcileNow(t.db, ts.gateway, env);
    expect(await openBreaks()).toEqual([]);
    expect(await lastPass()).toMatchObject({ status: "completed", breaks_opened: 0, failures: 0 });
  });

  it("finds each kind of break in one pass, and a rerun adds nothing", async () => {
    // payout_missing_transfers (and the balance it took): a payout made by hand in the Dashboard.
    const byHand = await chargedPayee("rec-by-hand");
    await flow.deliverNew();
    const handPayout = ts.simulator.createHandMadePayout(byHand.account, { amount: 2_000 });
    // missing_in_ledger: a balance transaction Payrun never heard of.
    const adjusted = await chargedPayee("rec-adjusted");
    await flow.deliverNew();
    const adjustment = ts.simulator.createAdjustment(adjusted.account, { amount: -700 });
    // amount_mismatch: Stripe's amount changed after the fact (the connected account's payment).
    const changed = await chargedPayee("rec-changed");
    await flow.deliverNew();
    const listed = await ts.stripe.balanceTransactions.list(
      { limit: 10 },
      { stripeAccount: changed.account },
    );
    const paymentTxn = listed.data.find((bt) => bt.type === "payment")!;
    ts.simulator.changeAmount(paymentTxn.id, paymentTxn.amount - 100);
    // missing_in_ledger on both accounts: the charge's webhook never came.
    const missed = await chargedPayee("rec-missed");
    await flow.deliverNew({
      skip: (e) =>
        e.type === "payment_intent.succeeded" && (e.data.object as { id: string }).id === missed.pi,
    });
    // missing_at_stripe: a payout recorded by hand with an id Stripe never made.
    const typo = await chargedPayee("rec-typo");
    await flow.deliverNew();
    await recordOutOfBandPayout(t.db, {
      payeeId: typo.payeeId,
      amountCents: 1_000,
      currency: "usd",
      stripePayoutId: "po_NeverMadeAtStripe",
      reason: "typo",
      requestKey: "rec-typo-1",
      actor,
    });
    // currency_mismatch: a payout made by hand in dollars, recorded in euros.
    const wrongCurrency = await chargedPayee("rec-currency");
    await flow.deliverNew();
    const usdPayout = ts.simulator.createHandMadePayout(wrongCurrency.account, { amount: 1_500 });
    await recordOutOfBandPayout(t.db, {
      payeeId: wrongCurrency.payeeId,
      amountCents: 1_500,
      currency: "eur",
      stripePayoutId: usdPayout.id as string,
      reason: "wrong currency",
      requestKey: "rec-currency-1",
      actor,
    });

    await reconcileNow(t.db, ts.gateway, env);
    const breaks = await openBreaks();
    const of = (account: string) =>
      breaks
        .filter((b) => b.account === account)
        .map((b) => `${b.kind}:${b.object ?? "balance"}`)
        .sort();

    expect(of(byHand.account)).toEqual(
      [`balance_drift:balance`, `payout_missing_transfers:${handPayout.id}`].sort(),
    );
    expect(of(adjusted.account)).toEqual(
      [`balance_drift:balance`, `missing_in_ledger:${adjustment.id}`].sort(),
    );
    // No money moved with the changed amount, so the balance still agrees.
    expect(of(changed.account)).toEqual([`amount_mismatch:${changed.charge}`]);
    expect(of(missed.account)).toEqual(
      [`balance_drift:balance`, `missing_in_ledger:${missed.charge}`].sort(),
    );
    expect(breaks.filter((b) => b.account === "platform").map((b) => `${b.kind}:${b.object}`)).toEqual([
      `missing_in_ledger:${missed.charge}`,
    ]);
    expect(of(typo.account)).toEqual(
      [`balance_drift:balance`, `missing_at_stripe:po_NeverMadeAtStripe`].sort(),
    );
    expect(of(wrongCurrency.account)).toContain(`currency_mismatch:${usdPayout.id}`);
    expect(new Set(breaks.map((b) => b.kind))).toEqual(
      new Set([
        "payout_missing_transfers",
        "missing_in_ledger",
        "amount_mismatch",
        "missing_at_stripe",
        "currency_mismatch",
        "balance_drift",
      ]),
    );
    const amounts = breaks.find((b) => b.kind === "amount_mismatch")!;
    expect(amounts.stripe! - amounts.ledger!).toBe(-100);
    const [foreign] = await listOpenBreaks(t.db, { kind: "payout_missing_transfers" });
    expect(foreign!.details).toMatchObject({ automatic: false, carriesPayrunMoney: false });
    const first = await lastPass();
    expect(first.breaks_opened).toBe(breaks.length);

    await reconcileNow(t.db, ts.gateway, env);
    expect(await openBreaks()).toEqual(breaks);
    expect(await lastPass()).toMatchObject({ status: "completed", breaks_opened: 0, breaks_closed: 0 });

    // stripe_payout_missing_transfers: in the health JSON, and on Slack once per payout, however many passes see it.
    const health = await reconciliationHealth(t.db);
    expect(health.stripePayoutMissingTransfers).toBe(1);
    expect(health.reconciliation.lastPass).toMatchObject({
      status: "completed",
      accountsTotal: health.reconciliation.lastPass!.accountsDone,
    });
    expect(health.reconciliation.openBreaks.find((b) => b.kind === "amount_mismatch")).toMatchObject({
      breaks: 1,
      difference: -100,
    });
    const alerts = await queryRows<{ aggregate_id: string }>(
      t.db,
      sql`select aggregate_id from outbox_events where type = 'alert.payout_missing_transfers'`,
    );
    expect(alerts).toEqual([{ aggregate_id: handPayout.id }]);

    // The late webhook comes: its breaks close themselves on the next pass.
    expect(await flow.deliverHeld()).toEqual(["payment_intent.succeeded:processed"]);
    await reconcileNow(t.db, ts.gateway, env);
    const after = await openBreaks();
    expect(after.filter((b) => b.account === missed.account || b.object === missed.charge)).toEqual([]);
    expect((await lastPass()).breaks_closed).toBe(3);
  });

  it("an out-of-band payout recorded without its Stripe id is linked to the payout when it appears", async () => {
    const p = await chargedPayee("rec-oob");
    await flow.deliverNew();
    await recordOutOfBandPayout(t.db, {
      payeeId: p.payeeId,
      amountCents: 4_500,
      currency: "usd",
      reason: "Payrun was down",
      requestKey: "rec-oob-1",
      actor,
    });
    const made = ts.simulator.createHandMadePayout(p.account, { amount: 4_500 });
    await reconcileNow(t.db, ts.gateway, env);
    expect((await openBreaks()).filter((b) => b.account === p.account)).toEqual([]);
    const [row] = await queryRows<{ stripe_payout_id: string; origin: string }>(
      t.db,
      sql`select stripe_payout_id, origin from payouts where request_key = 'rec-oob-1'`,
    );
    expect(row).toEqual({ stripe_payout_id: made.id, origin: "out_of_band" });
  });

  it("a pass killed between two pages resumes where the lease ends, without a duplicate", async () => {
    const p = await chargedPayee("rec-killed");
    for (let i = 0; i < 3; i++)
      ts.simulator.createDestinationCharge({
        destination: p.account,
        amount: 1_000 + i,
        applicationFeeAmount: 100,
      });
    await flow.deliverNew();
    // The invocation hangs for good from the third page it asks for: as if killed there.
    let pages = 0;
    const dying: ReconcileGateway = {
      ...ts.gateway,
      listBalanceTransactions: (input) =>
        ++pages >= 3 ? new Promise(() => {}) : ts.gateway.listBalanceTransactions(input),
    };
    void reconcileBatch(t.db, dying, env, {
      owner: "killed",
      batchSize: 100,
      now: new Date(),
      mayStart: true,
      pageSize: 2,
    });
    await waitFor(async () => pages >= 3);
    const [stored] = await queryRows<{ n: number }>(
      t.db,
      sql`select count(*)::int as n from stripe_balance_transactions`,
    );
    expect(stored!.n).toBeGreaterThan(0);
    expect((await lastPass()).status).toBe("running");

    // The next invocation, once the dead one's lease has ended, finishes the pass.
    await reconcileNow(t.db, ts.gateway, env, { pageSize: 2, now: new Date(Date.now() + 3_600_000) });
    expect(await lastPass()).toMatchObject({ status: "completed", failures: 0 });
    const [dupes] = await queryRows<{ n: number }>(
      t.db,
      sql`select count(*)::int as n from (select id from stripe_balance_transactions group by id having count(*) > 1) d`,
    );
    expect(dupes!.n).toBe(0);
    const atStripe = await ts.stripe.balanceTransactions.list({ limit: 100 }, { stripeAccount: p.account });
    const [mine] = await queryRows<{ n: number }>(
      t.db,
      sql`select count(*)::int as n from stripe_balance_transactions where account = ${p.account}`,
    );
    expect(mine!.n).toBe(atStripe.data.length);
    expect((await openBreaks()).filter((b) => b.account === p.account)).toEqual([]);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}
