import Stripe from "stripe";

export type StripeErrorKind =
  | "rate_limited"
  | "server"
  | "network"
  | "lock_timeout"
  | "idempotency"
  | "invalid_request"
  | "card"
  | "permission"
  | "authentication"
  | "unknown";

export interface ClassifiedStripeError {
  /** True when the same request (same idempotency key) may be tried again later. */
  retryable: boolean;
  kind: StripeErrorKind;
  statusCode?: number;
  code?: string;
  declineCode?: string;
  failureCode?: string;
  message: string;
  requestId?: string;
}

/** What every gateway method throws: the SDK's error, classified. */
export class StripeGatewayError extends Error {
  readonly classified: ClassifiedStripeError;

  constructor(
    readonly operation: string,
    classified: ClassifiedStripeError,
    options?: { cause?: unknown },
  ) {
    super(
      `Stripe ${operation} failed (${classified.kind}${classified.code ? `/${classified.code}` : ""}): ${classified.message}`,
      options,
    );
    this.name = "StripeGatewayError";
    this.classified = classified;
  }

  get retryable(): boolean {
    return this.classified.retryable;
  }

  get kind(): StripeErrorKind {
    return this.classified.kind;
  }

  get code(): string | undefined {
    return this.classified.code;
  }
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function failureCodeOf(error: Stripe.errors.StripeError): string | undefined {
  // Payout and charge failures carry failure_code on the object inside the raw error, when present.
  const raw: unknown = error.raw;
  if (typeof raw === "object" && raw !== null && "failure_code" in raw)
    return stringOrUndefined((raw as { failure_code?: unknown }).failure_code);
  return undefined;
}

const NETWORK_ERROR_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
]);

/**
 * Retryable: 429 rate limits, 5xx, connection failures and lock timeouts. Everything else is final,
 * with Stripe's code, decline_code and failure_code kept for the caller to record.
 */
export function classifyStripeError(error: unknown): ClassifiedStripeError {
  if (error instanceof StripeGatewayError) return error.classified;
  if (error instanceof Stripe.errors.StripeError) {
    const statusCode = error.statusCode;
    const code = stringOrUndefined(error.code);
    const base = {
      statusCode,
      code,
      declineCode: stringOrUndefined(error.decline_code),
      failureCode: failureCodeOf(error),
      message: error.message,
      requestId: stringOrUndefined(error.requestId),
    };
    const strip = <T extends Record<string, unknown>>(value: T): T =>
      Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
    if (code === "lock_timeout") return strip({ ...base, retryable: true, kind: "lock_timeout" as const });
    // Stripe says so itself on some answers (a 429 it will not accept again, a 409 in progress).
    const shouldRetry = (error.headers as Record<string, string> | undefined)?.["stripe-should-retry"];
    if (shouldRetry === "false" && statusCode !== undefined)
      return strip({ ...base, retryable: false, kind: statusCode === 429 ? ("rate_limited" as const) : ("unknown" as const) });
    // e.g. a 409: a request with the same idempotency key is still in flight; the same request later works.
    if (shouldRetry === "true" && statusCode === 409) return strip({ ...base, retryable: true, kind: "idempotency" as const });
    if (
      error instanceof Stripe.errors.StripeConnectionError ||
      (statusCode === undefined && error.type === "StripeConnectionError")
    )
      return strip({ ...base, retryable: true, kind: "network" as const });
    if (statusCode === 429 || error instanceof Stripe.errors.StripeRateLimitError || code === "rate_limit")
      return strip({ ...base, retryable: true, kind: "rate_limited" as const });
    if (statusCode !== undefined && statusCode >= 500)
      return strip({ ...base, retryable: true, kind: "server" as const });
    if (error instanceof Stripe.errors.StripeIdempotencyError || error.rawType === "idempotency_error")
      return strip({ ...base, retryable: false, kind: "idempotency" as const });
    if (error instanceof Stripe.errors.StripeCardError || statusCode === 402)
      return strip({ ...base, retryable: false, kind: "card" as const });
    if (error instanceof Stripe.errors.StripeAuthenticationError || statusCode === 401)
      return strip({ ...base, retryable: false, kind: "authentication" as const });
    if (error instanceof Stripe.errors.StripePermissionError || statusCode === 403)
      return strip({ ...base, retryable: false, kind: "permission" as const });
    if (error instanceof Stripe.errors.StripeAPIError && statusCode === undefined)
      return strip({ ...base, retryable: true, kind: "server" as const });
    if (error instanceof Stripe.errors.StripeInvalidRequestError || statusCode === 400 || statusCode === 404)
      return strip({ ...base, retryable: false, kind: "invalid_request" as const });
    return strip({ ...base, retryable: false, kind: "unknown" as const });
  }
  if (error instanceof Error) {
    const code = stringOrUndefined((error as NodeJS.ErrnoException).code);
    if (code && NETWORK_ERROR_CODES.has(code))
      return { retryable: true, kind: "network", code, message: error.message };
    return { retryable: false, kind: "unknown", message: error.message };
  }
  return { retryable: false, kind: "unknown", message: String(error) };
}
