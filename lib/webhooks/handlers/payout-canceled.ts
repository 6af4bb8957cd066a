import { payoutOutcomeHandler } from "./payout-outcome";

// payout.canceled: cancelled before it left; the funds go back to the payee's available balance.
export const handlePayoutCanceled = payoutOutcomeHandler("canceled");
