import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StripeGatewayError } from "../../../lib/stripe/errors";
import { IDEMPOTENCY_KEY_TTL_SECONDS } from "../../../lib/stripe/simulator";
import { createOnboardedPayee, startTestStripe, type TestStripe } from "../../support/stripe";

let t: TestStripe;
beforeAll(async () => {
  t = await startTestStripe();
});
afterAll(async () => {
  await t.close();
});

describe("idempotency, as Stripe documents it", () => {
  it("replays the first response for the same key and parameters, with Idempotent-Replayed", async () => {
    const payee = await createOnboardedPayee(t, "idem-replay");
    const first = await t.stripe.transfers.create(
      { amount: 700, currency: "usd", destination: payee.id },
      { idempotencyKey: "same-key" },
    );
    const second = await t.stripe.transfers.create(
      { amount: 700, currency: "usd", destination: payee.id },
      { idempotencyKey: "same-key" },
    );
    expect(second.id).toBe(first.id);
    expect(second.lastResponse.headers["idempotent-replayed"]).toBe("true");
    expect(first.lastResponse.headers["idempotent-replayed"]).toBeUndefined();
    // Exactly one transfer moved money.
    expect((await t.gateway.retrieveBalance(payee.id)).available[0]?.amount).toBe(700);
    const log = t.simulator.requests().filter((entry) => entry.idempotencyKey === "same-key");
    expect(log.map((entry) => [entry.replayed, entry.createdIds.length])).toEqual([
      [false, 2], // the transfer and its py_ payment on the destination
      [true, 0],
    ]);
  });

  it("replays errors too (the endpoint ran), with the same status", async () => {
    const payee = await createOnboardedPayee(t, "idem-error");
    const attempt = () =>
      t.stripe.payouts.create(
        { amount: 999_999, currency: "usd" },
        { stripeAccount: payee.id, idempotencyKey: "too-much" },
      );
    await expect(attempt()).rejects.toMatchObject({ statusCode: 400, code: "balance_insufficient" });
    await expect(attempt()).rejects.toMatchObject({ statusCode: 400, code: "balance_insufficient" });
    expect(
      t.simulator
        .requests()
        .filter((entry) => entry.idempotencyKey === "too-much")
        .map((entry) => entry.replayed),
    ).toEqual([false, true]);
  });

  it("rejects the same key with other parameters: 400 idempotency_error, final", async () => {
    const payee = await createOnboardedPayee(t, "idem-mismatch");
    await t.gateway.createTransfer({
      amount: 100,
      currency: "usd",
      destination: payee.id,
      idempotencyKey: "mismatch-key",
    });
    const error = await t.gateway
      .createTransfer({ amount: 101, currency: "usd", destination: payee.id, idempotencyKey: "mismatch-key" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StripeGatewayError);
    expect((error as StripeGatewayError).classified).toMatchObject({
      kind: "idempotency",
      retryable: false,
      statusCode: 400,
    });
  });

  it("scopes keys per account (Stripe-Account)", async () => {
    const a = await createOnboardedPayee(t, "idem-scope-a");
    const b = await createOnboardedPayee(t, "idem-scope-b");
    await t.gateway.createTransfer({
      amount: 500,
      currency: "usd",
      destination: a.id,
      idempotencyKey: "fund-a",
    });
    await t.gateway.createTransfer({
      amount: 500,
      currency: "usd",
      destination: b.id,
      idempotencyKey: "fund-b",
    });
    const payoutA = await t.gateway.createPayout({
      stripeAccount: a.id,
      amount: 100,
      currency: "usd",
      idempotencyKey: "payout-key",
    });
    const payoutB = await t.gateway.createPayout({
      stripeAccount: b.id,
      amount: 100,
      currency: "usd",
      idempotencyKey: "payout-key",
    });
    expect(payoutA.id).not.toBe(payoutB.id);
  });

  it("forgets keys after 24 hours of simulated time", async () => {
    const payee = await createOnboardedPayee(t, "idem-expiry");
    const first = await t.gateway.createTransfer({
      amount: 100,
      currency: "usd",
      destination: payee.id,
      idempotencyKey: "day-key",
    });
    t.simulator.advanceClock(IDEMPOTENCY_KEY_TTL_SECONDS - 60);
    const replay = await t.gateway.createTransfer({
      amount: 100,
      currency: "usd",
      destination: payee.id,
      idempotencyKey: "day-key",
    });
    expect(replay.id).toBe(first.id);
    t.simulator.advanceClock(60);
    const fresh = await t.gateway.createTransfer({
      amount: 100,
      currency: "usd",
      destination: payee.id,
      idempotencyKey: "day-key",
    });
    expect(fresh.id).not.toBe(first.id);
  });

  it("does not save validation failures (parameter_missing), so the key stays usable", async () => {
    await expect(
      t.stripe.transfers.create({ currency: "usd", destination: "acct_x" } as never, {
        idempotencyKey: "fix-me",
      }),
    ).rejects.toMatchObject({
      statusCode: 400,
      code: "parameter_missing",
      param: "amount",
    });
    const payee = await createOnboardedPayee(t, "idem-validation");
    const transfer = await t.gateway.createTransfer({
      amount: 100,
      currency: "usd",
      destination: payee.id,
      idempotencyKey: "fix-me",
    });
    expect(transfer.object).toBe("transfer");
  });

  it("rejects unknown parameters with parameter_unknown", async () => {
    await expect(
      t.stripe.customers.create({ email: "x@example.com", favourite_colour: "blue" } as never),
    ).rejects.toMatchObject({
      statusCode: 400,
      code: "parameter_unknown",
      param: "favourite_colour",
    });
  });
});
