import type { EscrowHold } from "../../db/schema";

/** A hold as the API shows it: `funded` instead of the ledger transaction ids. */
export const toHoldResponse = (hold: EscrowHold) => ({
  ...hold,
  funded: hold.holdLedgerTransactionId !== null,
});
