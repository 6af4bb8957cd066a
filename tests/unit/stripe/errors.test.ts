import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { classifyStripeError, StripeGatewayError } from "../../../lib/stripe/errors";

const raw = (statusCode: number, extra: Record<string, unknown> = {}) => ({
  message: "boom",
  statusCode,
  requestId: "req_1",
  ...extra,
});

describe("classifyStripeError", () => {
  it("treats rate limits, 5xx, connection errors and lock timeouts as retryable", () => {
    expect(
      classifyStripeError(new Stripe.errors.StripeRateLimitError(raw(429, { code: "rate_limit" }))),
    ).toMatchObject({ retryable: true, kind: "rate_limited", statusCode: 429 });
    expect(classifyStripeError(new Stripe.errors.StripeAPIError(raw(500)))).toMatchObject({
      retryable: true,
      kind: "server",
    });
    expect(
      classifyStripeError(new Stripe.errors.StripeConnectionError({ message: "socket hang up" })),
    ).toMatchObject({ retryable: true, kind: "network" });
    expect(
      classifyStripeError(new Stripe.errors.StripeRateLimitError(raw(429, { code: "lock_timeout" }))),
    ).toMatchObject({ retryable: true, kind: "lock_timeout" });
    const reset = Object.assign(new Error("reset"), { code: "ECONNRESET" });
    expect(classifyStripeError(reset)).toMatchObject({
      retryable: true,
      kind: "network",
      code: "ECONNRESET",
    });
  });

  it("treats everything else as final and keeps Stripe's codes", () => {
    expect(
      classifyStripeError(
        new Stripe.errors.StripeCardError(
          raw(402, { code: "card_declined", decline_code: "insufficient_funds" }),
        ),
      ),
    ).toMatchObject({
      retryable: false,
      kind: "card",
      code: "card_declined",
      declineCode: "insufficient_funds",
    });
    expect(
      classifyStripeError(
        new Stripe.errors.StripeInvalidRequestError(raw(400, { code: "balance_insufficient" })),
      ),
    ).toMatchObject({ retryable: false, kind: "invalid_request", code: "balance_insufficient" });
    expect(classifyStripeError(new Stripe.errors.StripeIdempotencyError(raw(400)))).toMatchObject({
      retryable: false,
      kind: "idempotency",
    });
    expect(classifyStripeError(new Stripe.errors.StripeAuthenticationError(raw(401)))).toMatchObject({
      retryable: false,
      kind: "authentication",
    });
    expect(classifyStripeError(new Stripe.errors.StripePermissionError(raw(403)))).toMatchObject({
      retryable: false,
      kind: "permission",
    });
    expect(classifyStripeError("weird")).toMatchObject({ retryable: false, kind: "unknown" });
  });

  it("passes a gateway error's classification through", () => {
    const error = new StripeGatewayError("payouts.create", { retryable: true, kind: "server", message: "x" });
    expect(classifyStripeError(error)).toBe(error.classified);
    expect(error.retryable).toBe(true);
  });
});
