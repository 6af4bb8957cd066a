import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../db/client";
import { escrowHolds } from "../../../db/schema";
import { escrowReleasesSweep } from "../../../lib/escrow/release-sweep";
import {
  payeeBalances,
  platformBalances,
  postLedgerTransaction,
  unbalancedTransactions,
} from "../../../lib/ledger";
import { runSweep } from "../../../lib/sweeps/run";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, fakeGateway } from "../../support/stripe";
import { buildEvent, uniqueId } from "../../support/stripe-events";
import { createPayeeWithAccount, deliver, eventRow } from "./helpers";

let t: TestDb;
let payeeId: string;
const acct = "acct_earnings_1";
const reserveEnv = {
  PAYOUT_RESERVE_PERCENT: 10,
  PAYOUT_RESERVE_DAYS: 30,
  PAYEE_RECOVERY_POLICY: "reverse_transfer" as const,
};

beforeAll(async () => {
  t = await createTestDb();
  ({ payeeId } = await createPayeeWithAccount(t.db, acct));
});
afterAll(() => t.close());

const succeeded = (pi: string, charge: string, amount: number, fee: number, destination: unknown = acct) =>
  buildEvent("payment_intent.succeeded", "payment_intent", {
    id: pi,
    amount,
    amount_received: amount,
    application_fee_amount: fee,
    currency: "usd",
    status: "succeeded",
    latest_charge: charge,
    transfer_data: { destination },
  });

const balances = async () => (await payeeBalances(t.db, payeeId)).usd!;

describe("payment_intent.succeeded", () => {
  it("credits amount received minus the fee, books the fee, holds the rolling reserve, once", async () => {
    const event = succeeded("pi_earn_1", "ch_earn_1", 10_000, 1_000, { id: acct, object: "account" });
    expect(await deliver(t.db, event, { env: reserveEnv })).toMatchObject({ status: "processed" });
    // 9,000 net; 10 % (900) moved to held
    expect(await balances()).toMatchObject({ available: 8_100, held: 900 });
    expect((await platformBalances(t.db, "fees")).usd).toBe(1_000);
    expect((await platformBalances(t.db, "stripe_clearing")).usd).toBe(-10_000);
    const [hold] = await t.db.select().from(escrowHolds).where(eq(escrowHolds.sourceRef, "pi_earn_1"));
    expect(hold).toMatchObject({ kind: "rolling_reserve", amountCents: 900, status: "active" });
    const days = (hold!.releaseAt!.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);

    // Another event about the same payment intent (e.g. re-sent under a new id) credits nothing.
    const again = succeeded("pi_earn_1", "ch_earn_1", 10_000, 1_000);
    expect(await deliver(t.db, again, { env: reserveEnv })).toMatchObject({ status: "processed" });
    expect(await balances()).toMatchObject({ available: 8_100, held: 900 });
  });

  it("ignores a payment intent that is not a destination charge", async () => {
    const event = succeeded("pi_plain", "ch_plain", 5_000, 0, null);
    expect(await deliver(t.db, event)).toMatchObject({ status: "ignored" });
  });

  it("waits (pending) for a destination account Payrun does not know yet", async () => {
    const event = succeeded("pi_unknown_acct", "ch_unknown_acct", 5_000, 500, "acct_not_yet");
    expect(await deliver(t.db, event)).toMatchObject({ status: "pending" });
    expect(await eventRow(t.db, event.id)).toMatchObject({ status: "pending", attempts: 0 });
  });
});

// Refunds are posted in Stripe's numbers, read from Stripe: tests/integration/webhooks/stripe-money.test.ts.

const dispute = (id: string, type: string, status: string, charge: string, amount = 1_500) =>
  buildEvent(type, "dispute", { id, amount, currency: "usd", charge, payment_intent: null, status });

describe("charge.dispute.*", () => {
  it("holds the disputed amount while open and releases it when won", async () => {
    await deliver(t.db, succeeded("pi_disp_won", "ch_disp_won", 3_000, 0));
    const before = await balances();
    expect(
      await deliver(t.db, dispute("dp_won", "charge.dispute.created", "needs_response", "ch_disp_won")),
    ).toMatchObject({
      status: "processed",
    });
    expect(await balances()).toMatchObject({
      available: before.available - 1_500,
      held: before.held + 1_500,
    });
    expect(
      await deliver(t.db, dispute("dp_won", "charge.dispute.closed", "won", "ch_disp_won")),
    ).toMatchObject({
      status: "processed",
    });
    expect(await balances()).toMatchObject({ available: before.available, held: before.held });
    const [hold] = await t.db.select().from(escrowHolds).where(eq(escrowHolds.sourceRef, "dp_won"));
    expect(hold).toMatchObject({ kind: "dispute", status: "released" });
  });

  it("a close that arrives before the open waits, and applies once the hold exists", async () => {
    await deliver(t.db, succeeded("pi_disp_order", "ch_disp_order", 3_000, 0));
    const closed = dispute(uniqueId("dp"), "charge.dispute.closed", "won", "ch_disp_order");
    const id = (closed.data.object as { id: string }).id;
    expect(await deliver(t.db, closed)).toMatchObject({ status: "pending" });
    await deliver(t.db, dispute(id, "charge.dispute.created", "needs_response", "ch_disp_order"));
    const { sweepWebhookReplays } = await import("../../../lib/webhooks/sweep");
    const swept = await sweepWebhookReplays(t.db, {
      env: reserveEnv,
      gateway: () => {
        throw new Error("no Stripe");
      },
      timeBudgetMs: 10_000,
    });
    expect(swept.processed).toBeGreaterThanOrEqual(1);
    expect(await eventRow(t.db, closed.id)).toMatchObject({ status: "processed" });
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });
});

describe("review regressions", () => {
  it("credits a payee whose available is negative, reserve included, in ONE posting the reserve hold points at", async () => {
    const owing = await createPayeeWithAccount(t.db, "acct_owing");
    const owingSucceeded = (pi: string, ch: string, amount: number, created?: number) =>
      buildEvent(
        "payment_intent.succeeded",
        "payment_intent",
        {
          id: pi,
          amount,
          amount_received: amount,
          application_fee_amount: 0,
          currency: "usd",
          status: "succeeded",
          latest_charge: ch,
          transfer_data: { destination: "acct_owing" },
        },
        created ? { created } : {},
      );
    await deliver(t.db, owingSucceeded("pi_owing_1", "ch_owing_1", 1_000));
    // Refunded in full, reversed from the connected account (what applyRefund posts for it).
    await postLedgerTransaction(t.db, {
      idempotencyKey: `refund-${owing.payeeId}`,
      kind: "refund",
      description: "refunded in full",
      currency: "usd",
      payeeId: owing.payeeId,
      allowNegative: true,
      lines: [
        { payeeId: owing.payeeId, kind: "available", location: "connected", amount: -1_000 },
        { kind: "stripe_clearing", amount: 1_000 },
      ],
    });
    // The payee was paid out in between: available is now -1,000.
    await postLedgerTransaction(t.db, {
      idempotencyKey: `paid-out-${owing.payeeId}`,
      kind: "payout_paid",
      description: "paid out before the refund",
      currency: "usd",
      payeeId: owing.payeeId,
      allowNegative: true,
      lines: [
        { payeeId: owing.payeeId, kind: "available", amount: -1_000 },
        { payeeId: owing.payeeId, kind: "paid", amount: 1_000 },
      ],
    });
    expect((await payeeBalances(t.db, owing.payeeId)).usd!.available).toBe(-1_000);

    const tenDaysAgo = Math.floor(Date.now() / 1000) - 10 * 86_400;
    const event = owingSucceeded("pi_owing_2", "ch_owing_2", 5_000, tenDaysAgo);
    expect(await deliver(t.db, event, { env: reserveEnv })).toMatchObject({ status: "processed" });
    expect((await payeeBalances(t.db, owing.payeeId)).usd).toMatchObject({
      available: -1_000 + 4_500,
      held: 500,
    });

    const [hold] = await t.db.select().from(escrowHolds).where(eq(escrowHolds.sourceRef, "pi_owing_2"));
    const [earning] = await queryRows<{ id: string }>(
      t.db,
      sql`select id from ledger_transactions where idempotency_key = 'earning:pi_owing_2'`,
    );
    expect(hold).toMatchObject({
      kind: "rolling_reserve",
      amountCents: 500,
      holdLedgerTransactionId: earning!.id,
    });
    // Released 30 days after the charge, not after the processing.
    expect(hold!.releaseAt!.getTime()).toBe((tenDaysAgo + 30 * 86_400) * 1000);
    const audits = await queryRows(
      t.db,
      sql`select 1 from audit_log where action = 'escrow_hold.created' and entity_id = ${hold!.id}`,
    );
    expect(audits).toHaveLength(1);
    const holdPostings = await queryRows(
      t.db,
      sql`select 1 from ledger_transactions where source_id = 'pi_owing_2' or source_id = ${hold!.id}`,
    );
    expect(holdPostings).toHaveLength(1); // the earning only: no separate reserve posting

    // The sweep releases the reserve held -> available through the hold row.
    const due = new Date((tenDaysAgo + 31 * 86_400) * 1000);
    expect(await runSweep(t.db, escrowReleasesSweep, { now: due })).toMatchObject({ failed: 0 });
    expect((await payeeBalances(t.db, owing.payeeId)).usd).toMatchObject({ available: 4_000, held: 0 });
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });

  it("ignores a refund of a charge that is not a destination charge (no earning, no destination)", async () => {
    const event = buildEvent("charge.refunded", "charge", {
      id: "ch_invoice_payment",
      amount_refunded: 100,
      payment_intent: "pi_invoice_payment",
      transfer_data: null,
    });
    expect(await deliver(t.db, event)).toMatchObject({ status: "ignored" });
  });

  it("ignores a dispute (created and closed) of a charge that is not a destination charge", async () => {
    const stripe = await startTestStripe();
    try {
      const charge = await stripe.stripe.charges.create({
        amount: 4_000,
        currency: "usd",
        source: "tok_visa",
      });
      const gateway = () => stripe.gateway;
      const opened = dispute("dp_plain", "charge.dispute.created", "needs_response", charge.id, 4_000);
      expect(await deliver(t.db, opened, { gateway })).toMatchObject({ status: "ignored" });
      const closed = dispute("dp_plain", "charge.dispute.closed", "lost", charge.id, 4_000);
      expect(await deliver(t.db, closed, { gateway })).toMatchObject({ status: "ignored" });
      // A destination charge's dispute with no earning yet still waits.
      const pendingOne = dispute(
        "dp_dest_early",
        "charge.dispute.created",
        "needs_response",
        "ch_dest_early",
      );
      const destGateway = () => ({
        ...stripe.gateway,
        ...fakeGateway({ retrieveCharge: async () => ({ transfer_data: { destination: acct } }) }),
      });
      expect(await deliver(t.db, pendingOne, { gateway: destGateway })).toMatchObject({ status: "pending" });
    } finally {
      await stripe.close();
    }
  });

  it("a pending outcome never uses up the attempt budget: the sweep keeps trying, then applies", async () => {
    const early = succeeded("pi_wait_long", "ch_wait_long", 700, 0, "acct_wait_long");
    expect(await deliver(t.db, early)).toMatchObject({ status: "pending" });
    const { sweepWebhookReplays, MAX_APPLY_ATTEMPTS } = await import("../../../lib/webhooks");
    const noGateway = () => {
      throw new Error("no Stripe");
    };
    for (let i = 0; i < MAX_APPLY_ATTEMPTS + 1; i++) {
      await sweepWebhookReplays(t.db, { env: reserveEnv, gateway: noGateway, timeBudgetMs: 10_000 });
    }
    expect(await eventRow(t.db, early.id)).toMatchObject({ status: "pending", attempts: 0 });
    await createPayeeWithAccount(t.db, "acct_wait_long");
    await sweepWebhookReplays(t.db, { env: reserveEnv, gateway: noGateway, timeBudgetMs: 10_000 });
    expect(await eventRow(t.db, early.id)).toMatchObject({ status: "processed" });
  });
});
