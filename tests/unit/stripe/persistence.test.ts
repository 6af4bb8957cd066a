import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createOnboardedPayee, startTestStripe } from "../../support/stripe";

const directory = mkdtempSync(path.join(tmpdir(), "stripe-sim-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe("statePath", () => {
  it("keeps accounts, balances, payouts, clock and idempotency keys across restarts", async () => {
    const statePath = path.join(directory, "state.json");
    const first = await startTestStripe({ statePath });
    const payee = await createOnboardedPayee(first, "persisted");
    const transfer = await first.gateway.createTransfer({
      amount: 900,
      currency: "usd",
      destination: payee.id,
      idempotencyKey: "persist-tr",
    });
    const payout = await first.gateway.createPayout({
      stripeAccount: payee.id,
      amount: 400,
      currency: "usd",
      idempotencyKey: "persist-po",
    });
    const advancedTo = first.simulator.advanceClock(3_600);
    await first.close();

    const second = await startTestStripe({ statePath });
    try {
      expect((await second.gateway.retrieveAccount(payee.id)).payouts_enabled).toBe(true);
      expect((await second.gateway.retrieveBalance(payee.id)).available[0]?.amount).toBe(500);
      expect(second.simulator.now()).toBeGreaterThanOrEqual(advancedTo);
      const replay = await second.gateway.createTransfer({
        amount: 900,
        currency: "usd",
        destination: payee.id,
        idempotencyKey: "persist-tr",
      });
      expect(replay.id).toBe(transfer.id);
      second.simulator.advanceClock(86_400);
      expect((await second.gateway.retrievePayout(payee.id, payout.id)).status).toBe("paid");
    } finally {
      await second.close();
    }
  });
});

describe("statePath across versions of the simulator", () => {
  it("keeps what automatic payouts paid out and the proportional refund totals", async () => {
    const statePath = path.join(directory, "money.json");
    const first = await startTestStripe({ statePath });
    const account = await first.stripe.accounts.create({
      type: "express",
      capabilities: { transfers: { requested: true } },
    });
    first.simulator.onboardAccount(account.id);
    const charge = await first.stripe.paymentIntents.create({
      amount: 1_000,
      currency: "usd",
      payment_method: "pm_card_bypassPending",
      confirm: true,
      application_fee_amount: 333,
      transfer_data: { destination: account.id },
    });
    await first.stripe.refunds.create({
      payment_intent: charge.id,
      amount: 300,
      refund_application_fee: true,
    });
    first.simulator.advanceClock(86_400);
    const [payout] = (await first.stripe.payouts.list({}, { stripeAccount: account.id })).data;
    await first.close();

    const second = await startTestStripe({ statePath });
    try {
      const listed = await second.stripe.balanceTransactions.list(
        { payout: String(payout?.id) },
        { stripeAccount: account.id },
      );
      expect(listed.data.reduce((sum, bt) => sum + bt.net, 0)).toBe(0);
      expect(listed.data.length).toBeGreaterThan(1);
      await second.stripe.refunds.create({
        payment_intent: charge.id,
        amount: 300,
        refund_application_fee: true,
      });
      const fee = await second.stripe.applicationFees.list({ charge: String(charge.latest_charge) });
      // 333 × 300/1000 = 99.9 → 100, then × 600/1000 = 199.8 → 200: the running total survived the restart.
      expect(fee.data[0]?.amount_refunded).toBe(200);
    } finally {
      await second.close();
    }
  });

  it("loads a file saved before balance transactions knew their payouts", async () => {
    const statePath = path.join(directory, "older.json");
    const first = await startTestStripe({ statePath });
    const payee = await createOnboardedPayee(first, "older");
    await first.gateway.createTransfer({
      amount: 700,
      currency: "usd",
      destination: payee.id,
      idempotencyKey: "older-tr",
    });
    await first.close();
    const saved = JSON.parse(readFileSync(statePath, "utf8")) as {
      version: number;
      state: Record<string, unknown>;
    };
    delete saved.state.paidOutBy;
    delete saved.state.proportionalBases;
    writeFileSync(statePath, JSON.stringify(saved));

    const second = await startTestStripe({ statePath });
    try {
      expect(saved.version).toBe(1);
      expect((await second.gateway.retrieveBalance(payee.id)).available[0]?.amount).toBe(700);
      await second.gateway.createTransfer({
        amount: 300,
        currency: "usd",
        destination: payee.id,
        idempotencyKey: "older-tr-2",
      });
      const payout = second.simulator.createHandMadePayout(payee.id, { automatic: true });
      const listed = await second.stripe.balanceTransactions.list(
        { payout: payout.id },
        { stripeAccount: payee.id },
      );
      expect(listed.data.map((bt) => bt.net).sort((a, b) => a - b)).toEqual([-1_000, 300, 700]);
    } finally {
      await second.close();
    }
  });
});
