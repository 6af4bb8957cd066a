// Stripe's error envelope: {"error":{"type","code","message","param",...}} with Stripe's status codes.

export type StripeErrorType = "api_error" | "card_error" | "idempotency_error" | "invalid_request_error";

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  decline_code?: string;
  doc_url?: string;
  charge?: string;
  payment_intent?: Record<string, unknown>;
}

export class SimulatedStripeError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    /** Validation errors happen before the endpoint runs, so Stripe saves no idempotent result. */
    readonly beforeExecution = false,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
  }

  toJson(): { error: StripeErrorBody } {
    return { error: this.body };
  }
}

function docUrl(code: string): string {
  return `https://stripe.com/docs/error-codes/${code.replaceAll("_", "-")}`;
}

export function invalidRequest(
  message: string,
  code?: string,
  param?: string,
  status = 400,
): SimulatedStripeError {
  return new SimulatedStripeError(status, {
    type: "invalid_request_error",
    message,
    ...(code ? { code, doc_url: docUrl(code) } : {}),
    ...(param ? { param } : {}),
  });
}

export function resourceMissing(resourceLabel: string, id: string, param = "id"): SimulatedStripeError {
  return invalidRequest(`No such ${resourceLabel}: '${id}'`, "resource_missing", param, 404);
}

export function parameterMissing(param: string): SimulatedStripeError {
  const error = new SimulatedStripeError(
    400,
    {
      type: "invalid_request_error",
      code: "parameter_missing",
      doc_url: docUrl("parameter_missing"),
      message: `Missing required param: ${param}.`,
      param,
    },
    true,
  );
  return error;
}

export function parameterUnknown(param: string): SimulatedStripeError {
  return new SimulatedStripeError(
    400,
    {
      type: "invalid_request_error",
      code: "parameter_unknown",
      doc_url: docUrl("parameter_unknown"),
      message: `Received unknown parameter: ${param}`,
      param,
    },
    true,
  );
}

export function parameterInvalid(
  param: string,
  message: string,
  code = "parameter_invalid_string",
): SimulatedStripeError {
  return new SimulatedStripeError(
    400,
    { type: "invalid_request_error", code, doc_url: docUrl(code), message, param },
    true,
  );
}

export function balanceInsufficient(message: string): SimulatedStripeError {
  return invalidRequest(message, "balance_insufficient");
}

export function cardDeclined(declineCode: string, message: string, charge?: string): SimulatedStripeError {
  return new SimulatedStripeError(402, {
    type: "card_error",
    code: "card_declined",
    decline_code: declineCode,
    doc_url: docUrl("card_declined"),
    message,
    ...(charge ? { charge } : {}),
  });
}

/**
 * The amount a refund takes out of what is left (`requested`, or all of it), or Stripe's errors:
 * nothing left to refund, or more than is left (`amount_too_large`).
 */
export function refundableAmount(
  requested: number | undefined,
  remaining: number,
  what: { label: string; noun: string; id: string; alreadyRefundedCode?: string },
): number {
  if (remaining <= 0)
    throw invalidRequest(`${what.label} ${what.id} has already been refunded.`, what.alreadyRefundedCode);
  const amount = requested ?? remaining;
  if (amount <= 0 || amount > remaining)
    throw invalidRequest(
      `Refund amount (${amount}) is greater than unrefunded amount on ${what.noun} (${remaining})`,
      "amount_too_large",
      "amount",
    );
  return amount;
}
