import { DomainError } from "../errors";

export type LedgerErrorCode = "unbalanced" | "invalid_posting" | "insufficient_balance";

/** The ledger refused a posting: a domain error like any other (lib/errors.ts), 409 at the API. */
export class LedgerError extends DomainError {
  declare readonly code: LedgerErrorCode;
  declare readonly details: Record<string, unknown>;

  constructor(code: LedgerErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
    this.name = "LedgerError";
  }
}
