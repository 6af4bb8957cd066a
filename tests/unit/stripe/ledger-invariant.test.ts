import fc from "fast-check";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { allBalanceTransactions, expectTransactionsToMatchBalance } from "./ledger";

// Property: whatever mix of charges, refunds, reversals, fee refunds, transfers, payouts, payout
// outcomes, disputes, adjustments and time passing, every account's balance transactions add up to
// its balance (available + pending), and an automatic payout's transactions add up to zero.

let t: TestStripe;
beforeAll(async () => {
  t = await startTestStripe({ platformBalanceCents: 50_000_000, maxRetries: 0 });
});
afterAll(async () => {
  await t.close();
});

const HOUR = 3_600;

type Op =
  | {
      op: "charge";
      payee: number;
      amount: number;
      feePercent: number;
      model: "fee" | "amount";
      pending: boolean;
    }
  | { op: "refund"; charge: number; percent: number; reverse: boolean; refundFee: boolean }
  | { op: "feeRefund"; charge: number; percent: number }
  | { op: "transfer"; payee: number; amount: number }
  | { op: "reverse"; transfer: number; percent: number; refundFee: boolean }
  | { op: "payout"; payee: number; percent: number }
  | { op: "settle"; payout: number; outcome: "paid" | "failed" | "canceled" }
  | { op: "advance"; hours: number }
  | { op: "dispute"; charge: number; won: boolean }
  | { op: "adjust"; payee: number; amount: number };

const index = fc.nat({ max: 50 });
const percent = fc.integer({ min: 1, max: 100 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant("charge" as const),
    payee: index,
    amount: fc.integer({ min: 50, max: 20_000 }),
    feePercent: fc.integer({ min: 0, max: 100 }),
    model: fc.constantFrom("fee" as const, "amount" as const),
    pending: fc.boolean(),
  }),
  fc.record({
    op: fc.constant("refund" as const),
    charge: index,
    percent,
    reverse: fc.boolean(),
    refundFee: fc.boolean(),
  }),
  fc.record({ op: fc.constant("feeRefund" as const), charge: index, percent }),
  fc.record({
    op: fc.constant("transfer" as const),
    payee: index,
    amount: fc.integer({ min: 1, max: 5_000 }),
  }),
  fc.record({ op: fc.constant("reverse" as const), transfer: index, percent, refundFee: fc.boolean() }),
  fc.record({ op: fc.constant("payout" as const), payee: index, percent }),
  fc.record({
    op: fc.constant("settle" as const),
    payout: index,
    outcome: fc.constantFrom("paid" as const, "failed" as const, "canceled" as const),
  }),
  fc.record({ op: fc.constant("advance" as const), hours: fc.integer({ min: 1, max: 80 }) }),
  fc.record({ op: fc.constant("dispute" as const), charge: index, won: fc.boolean() }),
  fc.record({
    op: fc.constant("adjust" as const),
    payee: index,
    amount: fc.integer({ min: -2_000, max: 2_000 }),
  }),
);

function pick<T>(items: T[], at: number): T | undefined {
  return items.length === 0 ? undefined : items[at % items.length];
}

function share(amount: number, percentage: number): number {
  return Math.max(1, Math.floor((amount * percentage) / 100));
}

async function newPayee(schedule: "daily" | "manual"): Promise<string> {
  const account = await t.stripe.accounts.create({
    type: "express",
    capabilities: { transfers: { requested: true } },
    settings: { payouts: { schedule: { interval: schedule } } },
  });
  t.simulator.onboardAccount(account.id);
  return account.id;
}

async function available(account: string): Promise<number> {
  const balance = await t.stripe.balance.retrieve({}, { stripeAccount: account });
  return balance.available.find((b) => b.currency === "usd")?.amount ?? 0;
}

async function apply(op: Op, world: { payees: string[]; charges: Stripe.Charge[]; transfers: string[] }) {
  const { payees, charges, transfers } = world;
  switch (op.op) {
    case "charge": {
      const destination = pick(payees, op.payee) as string;
      const fee = Math.floor((op.amount * op.feePercent) / 100);
      const intent = await t.stripe.paymentIntents.create({
        amount: op.amount,
        currency: "usd",
        payment_method: op.pending ? "pm_card_visa" : "pm_card_bypassPending",
        confirm: true,
        ...(op.model === "fee"
          ? { application_fee_amount: fee, transfer_data: { destination } }
          : { transfer_data: { destination, amount: op.amount - fee } }),
      });
      const charge = await t.stripe.charges.retrieve(String(intent.latest_charge));
      charges.push(charge);
      transfers.push(String(charge.transfer));
      return;
    }
    case "refund": {
      const charge = pick(charges, op.charge);
      if (!charge) return;
      const current = await t.stripe.charges.retrieve(charge.id);
      const left = current.amount - current.amount_refunded;
      if (left <= 0) return;
      await t.stripe.refunds.create({
        charge: charge.id,
        amount: share(left, op.percent),
        reverse_transfer: op.reverse,
        refund_application_fee: op.refundFee,
      });
      return;
    }
    case "feeRefund": {
      const feeId = pick(charges, op.charge)?.application_fee;
      if (typeof feeId !== "string") return;
      const fee = await t.stripe.applicationFees.retrieve(feeId);
      const left = fee.amount - fee.amount_refunded;
      if (left <= 0) return;
      await t.stripe.applicationFees.createRefund(feeId, { amount: share(left, op.percent) });
      return;
    }
    case "transfer": {
      const transfer = await t.stripe.transfers.create({
        amount: op.amount,
        currency: "usd",
        destination: pick(payees, op.payee) as string,
      });
      transfers.push(transfer.id);
      return;
    }
    case "reverse": {
      const transferId = pick(transfers, op.transfer);
      if (!transferId) return;
      const transfer = await t.stripe.transfers.retrieve(transferId);
      const left = transfer.amount - transfer.amount_reversed;
      if (left <= 0) return;
      await t.stripe.transfers.createReversal(transferId, {
        amount: share(left, op.percent),
        refund_application_fee: op.refundFee,
      });
      return;
    }
    case "payout": {
      const account = pick(payees, op.payee) as string;
      const funds = await available(account);
      if (funds <= 0) return;
      await t.stripe.payouts.create(
        { amount: share(funds, op.percent), currency: "usd" },
        { stripeAccount: account },
      );
      return;
    }
    case "settle": {
      const account = pick(payees, op.payout) as string;
      const open = (await t.stripe.payouts.list({ limit: 100 }, { stripeAccount: account })).data.filter(
        (p) => p.status === "pending" || p.status === "in_transit",
      );
      const payout = pick(open, op.payout);
      if (!payout) return;
      if (op.outcome === "canceled" && payout.status !== "pending") return;
      t.simulator.settlePayout(payout.id, op.outcome, op.outcome === "failed" ? "account_closed" : undefined);
      return;
    }
    case "advance":
      t.simulator.advanceClock(op.hours * HOUR);
      return;
    case "dispute": {
      const charge = pick(charges, op.charge);
      if (!charge || (await t.stripe.charges.retrieve(charge.id)).disputed) return;
      const dispute = t.simulator.createDispute(charge.id);
      t.simulator.resolveDispute(dispute.id, op.won ? "won" : "lost");
      return;
    }
    case "adjust":
      if (op.amount !== 0)
        t.simulator.createAdjustment(pick(payees, op.payee) as string, { amount: op.amount });
      return;
  }
}

describe("balance transactions add up to balances", () => {
  it("after any mix of money movements, on the platform and every connected account", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 10, maxLength: 40, size: "max" }), async (ops) => {
        const world = {
          payees: [await newPayee("daily"), await newPayee("daily"), await newPayee("manual")],
          charges: [] as Stripe.Charge[],
          transfers: [] as string[],
        };
        for (const op of ops) {
          try {
            await apply(op, world);
          } catch (error) {
            // A refusal (say, a transfer larger than the platform's available balance) must move nothing.
            if (!(error instanceof Stripe.errors.StripeInvalidRequestError)) throw error;
          }
        }
        await expectTransactionsToMatchBalance(t.stripe);
        for (const payee of world.payees) {
          await expectTransactionsToMatchBalance(t.stripe, payee);
          for await (const payout of t.stripe.payouts.list({ limit: 100 }, { stripeAccount: payee })) {
            if (!payout.automatic) continue;
            const paidOut = await allBalanceTransactions(t.stripe, payee, { payout: payout.id });
            expect(
              paidOut.reduce((sum, bt) => sum + bt.net, 0),
              payout.id,
            ).toBe(0);
          }
        }
      }),
      { numRuns: 30 },
    );
  });
});
