import { payoutOutcomeHandler } from "./payout-outcome";

// payout.paid: the money reached the payee's bank.
export const handlePayoutPaid = payoutOutcomeHandler("paid");
