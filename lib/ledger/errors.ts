export class LedgerError extends Error {
  constructor(
    readonly code: "unbalanced" | "invalid_posting" | "insufficient_balance",
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "LedgerError";
  }
}
