// The errors domain code raises: a code from a closed list and a message a person can act on, with
// no HTTP in sight. lib/api/errors.ts alone maps a code to a status; the server-action wrapper
// (lib/api/with-action.ts) shows the message. Anything else thrown is unexpected: a 500 and Sentry.

export const domainErrorCodes = [
  /** No such row (or one the caller may not see: a payee never learns other payees' ids exist). */
  "not_found",
  /** The row is not in a state that allows this (already cancelled, not failed, a duplicate). */
  "conflict",
  /** Well-formed input that names something that does not fit (no such payee, share over fee). */
  "invalid_input",
  /** Something must happen first (finish onboarding before opening the Express dashboard). */
  "precondition_failed",
  /** Sign-in refused: wrong email or password. */
  "unauthenticated",
  /** Signed in, but not allowed (an account with no Payrun role). */
  "forbidden",
  /** A keyset cursor this code did not hand out. */
  "bad_cursor",
  /** A Stripe-Signature that is missing, wrong, stale or from the future. */
  "invalid_signature",
  /** A signed body that is not JSON, or not a Stripe event. */
  "invalid_json",
  "invalid_event",
  /** The ledger refused a posting (lib/ledger/errors.ts). */
  "unbalanced",
  "invalid_posting",
  "insufficient_balance",
] as const;

export type DomainErrorCode = (typeof domainErrorCodes)[number];

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export const notFound = (what: string) => new DomainError("not_found", `${what} not found`);
