import type { DomainError, DomainErrorCode } from "../errors";

// What a handler may answer with: an ApiError (a code and its status), and the one map from a
// domain error's code (lib/errors.ts) to an API code. Nothing outside lib/api knows a status.

export const errorStatus = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 422,
  payload_too_large: 413,
  invalid_signature: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  rate_limited: 429,
  internal_error: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

const apiCodeOf = {
  not_found: "not_found",
  conflict: "conflict",
  invalid_input: "validation_failed",
  precondition_failed: "precondition_failed",
  unauthenticated: "unauthorized",
  forbidden: "forbidden",
  bad_cursor: "bad_request",
  invalid_signature: "invalid_signature",
  invalid_json: "invalid_json",
  invalid_event: "bad_request",
  unbalanced: "conflict",
  invalid_posting: "conflict",
  insufficient_balance: "conflict",
} as const satisfies Record<DomainErrorCode, ErrorCode>;

const LEDGER_CODES: readonly DomainErrorCode[] = ["unbalanced", "invalid_posting", "insufficient_balance"];

/** The answer to a domain error; a ledger refusal keeps its own code in details.ledger. */
export function fromDomainError(error: DomainError): ApiError {
  const details = LEDGER_CODES.includes(error.code) ? { ledger: error.code, ...error.details } : error.details;
  return new ApiError(apiCodeOf[error.code], error.message, details);
}
