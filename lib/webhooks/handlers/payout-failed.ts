import { payoutOutcomeHandler } from "./payout-outcome";

// payout.failed: the bank returned it; the funds go back to the payee's available balance.
export const handlePayoutFailed = payoutOutcomeHandler("failed");
