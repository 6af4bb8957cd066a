import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StripeGatewayError } from "../../../lib/stripe/errors";
import { createOnboardedPayee, startTestStripe, type TestStripe } from "../../support/stripe";

const DAY = 86_400;
let t: TestStripe;
beforeAll(async () => {
  t = await startTestStripe({ platformBalanceCents: 1_000_000 });
});
afterAll(async () => {
  await t.close();
});

async function available(account?: string): Promise<number> {
  return (await t.gateway.retrieveBalance(account)).available.find((b) => b.currency === "usd")?.amount ?? 0;
}

async function failure(promise: Promise<unknown>): Promise<StripeGatewayError> {
  const error = await promise.catch((e: unknown) => e);
  if (!(error instanceof StripeGatewayError)) throw new Error("expected a StripeGatewayError");
  return error;
}

describe("balances and transfers", () => {
  it("moves platform funds to the connected account, and refuses when the platform is short", async () => {
    const payee = await createOnboardedPayee(t, "money-transfer");
    const platformBefore = await available();
    await t.gateway.createTransfer({
      amount: 25_000,
      currency: "usd",
      destination: payee.id,
      idempotencyKey: "m-tr-1",
    });
    expect(await available()).toBe(platformBefore - 25_000);
    expect(await available(payee.id)).toBe(25_000);
    const short = await failure(
      t.gateway.createTransfer({
        amount: platformBefore,
        currency: "usd",
        destination: payee.id,
        idempotencyKey: "m-tr-2",
      }),
    );
    expect(short.classified).toMatchObject({
      retryable: false,
      code: "balance_insufficient",
      statusCode: 400,
    });
    expect(await available(payee.id)).toBe(25_000);
  });

  it("refuses transfers to an account that has not finished onboarding", async () => {
    const account = await t.gateway.createExpressAccount({
      email: "new@example.com",
      country: "US",
      payeeId: "money-new",
      idempotencyKey: "m-new",
    });
    const error = await failure(
      t.gateway.createTransfer({
        amount: 100,
        currency: "usd",
        destination: account.id,
        idempotencyKey: "m-new-tr",
      }),
    );
    expect(error.classified.code).toBe("insufficient_capabilities_for_transfer");
  });

  it("credits a destination charge minus the application fee, pending until available_on", async () => {
    const payee = await createOnboardedPayee(t, "money-charge");
    const platformPending = (await t.gateway.retrieveBalance()).pending[0]?.amount ?? 0;
    await t.gateway.createDestinationCharge({
      amount: 10_000,
      currency: "usd",
      destination: payee.id,
      applicationFeeAmount: 1_000,
      idempotencyKey: "m-pi",
    });
    const balance = await t.gateway.retrieveBalance(payee.id);
    expect([balance.available[0]?.amount, balance.pending[0]?.amount]).toEqual([0, 9_000]);
    expect((await t.gateway.retrieveBalance()).pending[0]?.amount).toBe(platformPending + 1_000);
    t.simulator.advanceClock(2 * DAY);
    const later = await t.gateway.retrieveBalance(payee.id);
    expect([later.available[0]?.amount, later.pending[0]?.amount]).toEqual([9_000, 0]);
  });

  it("refuses a destination charge to an account that cannot receive transfers, moving no money", async () => {
    const account = await t.stripe.accounts.create({ type: "express" });
    const platformBefore = await t.gateway.retrieveBalance();
    const error = await failure(
      t.gateway.createDestinationCharge({
        amount: 1_000,
        currency: "usd",
        destination: account.id,
        applicationFeeAmount: 100,
        idempotencyKey: "m-pi-refused",
      }),
    );
    expect(error.classified.code).toBe("insufficient_capabilities_for_transfer");
    expect(await t.gateway.retrieveBalance()).toEqual(platformBefore);
  });

  it("supports the legacy Charges API with a destination (tok_bypassPending is available at once)", async () => {
    const payee = await createOnboardedPayee(t, "money-legacy");
    const charge = await t.stripe.charges.create({
      amount: 2_000,
      currency: "usd",
      source: "tok_bypassPending",
      transfer_data: { destination: payee.id },
      application_fee_amount: 200,
    });
    expect(charge).toMatchObject({
      object: "charge",
      status: "succeeded",
      amount: 2_000,
      application_fee_amount: 200,
    });
    expect(await available(payee.id)).toBe(1_800);
  });

  it("takes disputed amounts plus the fee from the platform, and gives the amount back when won", async () => {
    const payee = await createOnboardedPayee(t, "money-dispute");
    const intent = await t.gateway.createDestinationCharge({
      amount: 3_000,
      currency: "usd",
      destination: payee.id,
      applicationFeeAmount: 300,
      paymentMethod: "pm_card_bypassPending",
      idempotencyKey: "m-dp-pi",
    });
    const before = await available();
    const dispute = t.simulator.createDispute(String(intent.latest_charge));
    expect(await available()).toBe(before - 3_000 - 1_500);
    t.simulator.resolveDispute(dispute.id, "won");
    expect(await available()).toBe(before - 1_500);
    expect((await t.gateway.retrieveDispute(dispute.id)).status).toBe("won");
  });
});

describe("payouts", () => {
  it("go pending → in_transit → paid as the clock passes arrival_date", async () => {
    const payee = await createOnboardedPayee(t, "money-po-paid");
    await t.gateway.createTransfer({
      amount: 4_000,
      currency: "usd",
      destination: payee.id,
      idempotencyKey: "m-po-fund",
    });
    const payout = await t.gateway.createPayout({
      stripeAccount: payee.id,
      amount: 4_000,
      currency: "usd",
      idempotencyKey: "m-po",
    });
    expect(payout.status).toBe("pending");
    expect(await available(payee.id)).toBe(0);
    t.simulator.advanceClock(60);
    expect((await t.gateway.retrievePayout(payee.id, payout.id)).status).toBe("in_transit");
    t.simulator.advanceClock(DAY);
    expect((await t.gateway.retrievePayout(payee.id, payout.id)).status).toBe("paid");
    const types = (
      await t.gateway.listEvents({
        stripeAccount: payee.id,
        types: ["payout.created", "payout.updated", "payout.paid"],
      })
    ).data.map((e) => e.type);
    expect(types).toEqual(["payout.paid", "payout.updated", "payout.created"]);
  });

  it("failed payouts return the amount to the balance with Stripe's failure code", async () => {
    const payee = await createOnboardedPayee(t, "money-po-failed");
    await t.gateway.createTransfer({
      amount: 2_500,
      currency: "usd",
      destination: payee.id,
      idempotencyKey: "m-pf-fund",
    });
    const payout = await t.gateway.createPayout({
      stripeAccount: payee.id,
      amount: 2_500,
      currency: "usd",
      idempotencyKey: "m-pf",
    });
    t.simulator.settlePayout(payout.id, "failed", "account_closed");
    const failed = await t.gateway.retrievePayout(payee.id, payout.id);
    expect(failed).toMatchObject({
      status: "failed",
      failure_code: "account_closed",
      failure_message: "The bank account has been closed.",
    });
    expect(failed.failure_balance_transaction).toMatch(/^txn_/);
    expect(await available(payee.id)).toBe(2_500);
    const short = await failure(
      t.gateway.createPayout({
        stripeAccount: payee.id,
        amount: 2_501,
        currency: "usd",
        idempotencyKey: "m-pf-2",
      }),
    );
    expect(short.classified.code).toBe("balance_insufficient");
  });

  it("honour the payout schedule: manual never pays out, daily/weekly sweep the available balance", async () => {
    const manual = await createOnboardedPayee(t, "money-manual");
    const daily = await t.stripe.accounts.create({
      type: "express",
      capabilities: { transfers: { requested: true } },
    });
    t.simulator.onboardAccount(daily.id);
    const weekly = await t.stripe.accounts.create({
      type: "express",
      capabilities: { transfers: { requested: true } },
      settings: { payouts: { schedule: { interval: "weekly", weekly_anchor: "friday" } } },
    });
    t.simulator.onboardAccount(weekly.id);
    for (const [i, account] of [manual.id, daily.id, weekly.id].entries()) {
      await t.gateway.createTransfer({
        amount: 1_000,
        currency: "usd",
        destination: account,
        idempotencyKey: `m-sched-${i}`,
      });
    }
    t.simulator.advanceClock(DAY);
    expect((await t.gateway.listPayouts({ stripeAccount: manual.id })).data).toHaveLength(0);
    const dailyPayouts = (await t.gateway.listPayouts({ stripeAccount: daily.id })).data;
    expect(dailyPayouts.map((p) => [p.amount, p.automatic])).toEqual([[1_000, true]]);
    t.simulator.advanceClock(7 * DAY);
    expect((await t.gateway.listPayouts({ stripeAccount: weekly.id })).data.map((p) => p.amount)).toEqual([
      1_000,
    ]);
    expect((await t.gateway.listPayouts({ stripeAccount: manual.id })).data).toHaveLength(0);
    expect(await available(manual.id)).toBe(1_000);
  });
});

describe("Stripe-Account scoping and pagination", () => {
  it("keeps objects on the account they belong to", async () => {
    const a = await createOnboardedPayee(t, "scope-a");
    const b = await createOnboardedPayee(t, "scope-b");
    await t.gateway.createTransfer({
      amount: 100,
      currency: "usd",
      destination: a.id,
      idempotencyKey: "scope-fund",
    });
    const payout = await t.gateway.createPayout({
      stripeAccount: a.id,
      amount: 100,
      currency: "usd",
      idempotencyKey: "scope-po",
    });
    const wrongAccount = await failure(t.gateway.retrievePayout(b.id, payout.id));
    expect(wrongAccount.classified).toMatchObject({ statusCode: 404, code: "resource_missing" });
    // Without Stripe-Account the platform looks in its own payouts.
    await expect(t.stripe.payouts.retrieve(payout.id)).rejects.toMatchObject({
      statusCode: 404,
      code: "resource_missing",
    });
    const unknownAccount = await failure(t.gateway.listPayouts({ stripeAccount: "acct_nobody" }));
    expect(unknownAccount.classified).toMatchObject({
      statusCode: 403,
      kind: "permission",
      retryable: false,
    });
  });

  it("pages with limit, starting_after, ending_before and has_more", async () => {
    const payee = await createOnboardedPayee(t, "paging");
    await t.gateway.createTransfer({
      amount: 2_500,
      currency: "usd",
      destination: payee.id,
      idempotencyKey: "paging-fund",
    });
    const created: string[] = [];
    for (let i = 0; i < 25; i++) {
      created.push(
        (
          await t.gateway.createPayout({
            stripeAccount: payee.id,
            amount: 100,
            currency: "usd",
            idempotencyKey: `paging-${i}`,
          })
        ).id,
      );
    }
    const newestFirst = [...created].reverse();
    const seen: string[] = [];
    let startingAfter: string | undefined;
    for (;;) {
      const page = await t.gateway.listPayouts({ stripeAccount: payee.id, limit: 10, startingAfter });
      seen.push(...page.data.map((p) => p.id));
      if (!page.has_more) break;
      startingAfter = page.data.at(-1)?.id;
    }
    expect(seen).toEqual(newestFirst);
    const before = await t.stripe.payouts.list(
      { limit: 3, ending_before: newestFirst[5] },
      { stripeAccount: payee.id },
    );
    expect(before.data.map((p) => p.id)).toEqual(newestFirst.slice(2, 5));
    expect(before.has_more).toBe(true);
    const all: string[] = [];
    for await (const payout of t.stripe.payouts.list({ limit: 7 }, { stripeAccount: payee.id }))
      all.push(payout.id);
    expect(all).toEqual(newestFirst);
  });

  it("rejects requests without a valid API key", async () => {
    const response = await fetch(`${t.simulator.url}/v1/balance`);
    expect(response.status).toBe(401);
    const body = (await response.json()) as { error: { type: string } };
    expect(body.error.type).toBe("invalid_request_error");
  });
});
