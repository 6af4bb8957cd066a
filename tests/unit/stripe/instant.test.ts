import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StripeGatewayError } from "../../../lib/stripe/errors";
import { createOnboardedPayee, startTestStripe, type TestStripe } from "../../support/stripe";

// Instant Payouts for Connect at the simulator, through the real SDK and the gateway: eligibility
// (available_payout_methods), instant_available, method=instant and its failures as Stripe answers
// them, and the account debit an instant payout's fee takes.

let t: TestStripe;
beforeAll(async () => {
  t = await startTestStripe();
});
afterAll(async () => {
  await t.close();
});

async function rejection(promise: Promise<unknown>): Promise<StripeGatewayError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StripeGatewayError) return error;
    throw error;
  }
  throw new Error("expected a StripeGatewayError");
}

async function fundedAccount(label: string, cents = 10_000) {
  const account = await createOnboardedPayee(t, label);
  t.simulator.createDestinationCharge({
    destination: account.id,
    amount: Math.round((cents * 10) / 9),
    applicationFeeAmount: Math.round((cents * 10) / 9) - cents,
  });
  return account.id;
}

const instantOf = async (account: string) =>
  (await t.gateway.retrieveBalance(account)).instant_available?.find((b) => b.currency === "usd")?.amount;

describe("simulator: instant payouts", () => {
  it("a bank account takes standard payouts only; a debit card adds instant, and instant_available follows", async () => {
    const account = await fundedAccount("inst-elig");
    const before = await t.gateway.listExternalAccounts(account);
    expect(before.data.map((e) => [e.object, e.available_payout_methods])).toEqual([
      ["bank_account", ["standard"]],
    ]);
    expect(await instantOf(account)).toBe(0);
    const card = t.simulator.addDebitCard(account);
    const after = await t.gateway.listExternalAccounts(account);
    expect(after.data[0]).toMatchObject({
      id: card.id,
      object: "card",
      funding: "debit",
      available_payout_methods: ["standard", "instant"],
    });
    expect(await instantOf(account)).toBe(10_000);
    t.simulator.setInstantCap(account, 2_500);
    expect(await instantOf(account)).toBe(2_500);
    t.simulator.setInstantCap(account, null);
    expect(await instantOf(account)).toBe(10_000);
  });

  it("method=instant: no eligible card is instant_payouts_unsupported; over instant_available is balance_insufficient; other methods are refused", async () => {
    const account = await fundedAccount("inst-errors");
    const noCard = await rejection(
      t.gateway.createPayout({
        stripeAccount: account,
        amount: 1_000,
        currency: "usd",
        method: "instant",
        idempotencyKey: "inst-e-1",
      }),
    );
    expect(noCard.classified).toMatchObject({ code: "instant_payouts_unsupported", retryable: false });
    t.simulator.addDebitCard(account);
    t.simulator.setInstantCap(account, 500);
    const over = await rejection(
      t.gateway.createPayout({
        stripeAccount: account,
        amount: 1_000,
        currency: "usd",
        method: "instant",
        idempotencyKey: "inst-e-2",
      }),
    );
    expect(over.classified).toMatchObject({ code: "balance_insufficient", retryable: false });
    expect(over.message).toContain("instant_available");
    const bogus = await t.stripe.payouts
      .create({ amount: 100, currency: "usd", method: "overnight" }, { stripeAccount: account })
      .catch((e: { statusCode?: number; param?: string }) => e);
    expect(bogus).toMatchObject({ statusCode: 400, param: "method" });
    // a standard payout still goes to the bank account, whatever the card
    const standard = await t.gateway.createPayout({
      stripeAccount: account,
      amount: 700,
      currency: "usd",
      idempotencyKey: "inst-e-3",
    });
    expect(standard).toMatchObject({ method: "standard", type: "bank_account" });
  });

  it("pays to the card within 30 minutes; the same key answers the same payout; a declining card fails it with its code", async () => {
    const account = await fundedAccount("inst-paid");
    const card = t.simulator.addDebitCard(account);
    const po = await t.gateway.createPayout({
      stripeAccount: account,
      amount: 4_000,
      currency: "usd",
      method: "instant",
      idempotencyKey: "inst-p-1",
    });
    expect(po).toMatchObject({
      method: "instant",
      type: "card",
      destination: card.id,
      status: "pending",
      amount: 4_000,
    });
    expect(po.arrival_date - po.created).toBe(30 * 60);
    const again = await t.gateway.createPayout({
      stripeAccount: account,
      amount: 4_000,
      currency: "usd",
      method: "instant",
      idempotencyKey: "inst-p-1",
    });
    expect(again.id).toBe(po.id);
    expect(await instantOf(account)).toBe(6_000);
    t.simulator.advanceClock(31 * 60);
    expect((await t.gateway.retrievePayout(account, po.id)).status).toBe("paid");

    const declining = await fundedAccount("inst-declined");
    t.simulator.addDebitCard(declining, { failureCode: "declined" });
    const failing = await t.gateway.createPayout({
      stripeAccount: declining,
      amount: 3_000,
      currency: "usd",
      method: "instant",
      idempotencyKey: "inst-p-2",
    });
    t.simulator.advanceClock(31 * 60);
    const failed = await t.gateway.retrievePayout(declining, failing.id);
    expect(failed).toMatchObject({
      status: "failed",
      failure_code: "declined",
      failure_message: "The bank has declined this transfer.",
    });
    expect(t.simulator.balances(declining).balances[0]?.available).toBe(10_000);
    const events = await t.stripe.events.list({ type: "payout.failed" }, { stripeAccount: declining });
    expect(events.data.map((e) => (e.data.object as { id: string }).id)).toEqual([failing.id]);
  });

  it("an account debit moves money from the connected account to the platform; only to the platform", async () => {
    const account = await fundedAccount("inst-debit");
    const platform = await t.gateway.retrievePlatformAccount();
    expect(platform.id).toBe(t.simulator.platformAccountId);
    const platformBefore = t.simulator
      .balances(platform.id)
      .balances.find((b) => b.currency === "usd")!.available;
    const debit = await t.gateway.createAccountDebit({
      stripeAccount: account,
      platformAccount: platform.id,
      amount: 150,
      currency: "usd",
      metadata: { payout_id: "p-1", kind: "instant_fee" },
      idempotencyKey: "inst-d-1",
    });
    expect(debit).toMatchObject({ object: "transfer", amount: 150, destination: platform.id });
    expect(t.simulator.balances(account).balances[0]?.available).toBe(9_850);
    expect(t.simulator.balances(platform.id).balances.find((b) => b.currency === "usd")!.available).toBe(
      platformBefore + 150,
    );
    const listed = await t.gateway.listTransfers({ stripeAccount: account, limit: 10 });
    expect(listed.data.map((x) => x.id)).toEqual([debit.id]);
    const other = await fundedAccount("inst-debit-other");
    const refused = await rejection(
      t.gateway.createAccountDebit({
        stripeAccount: account,
        platformAccount: other,
        amount: 10,
        currency: "usd",
        idempotencyKey: "inst-d-2",
      }),
    );
    expect(refused.classified).toMatchObject({ kind: "invalid_request" });
    const tooMuch = await rejection(
      t.gateway.createAccountDebit({
        stripeAccount: account,
        platformAccount: platform.id,
        amount: 1_000_000,
        currency: "usd",
        idempotencyKey: "inst-d-3",
      }),
    );
    expect(tooMuch.classified).toMatchObject({ code: "balance_insufficient" });
  });
});
