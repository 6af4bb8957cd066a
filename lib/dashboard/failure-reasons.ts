// Stripe failure codes and our own skip reasons, in words a payee or an ops person can act on.
// https://docs.stripe.com/api/payouts/failures lists the payout failure codes.

const PAYOUT_FAILURES: Record<string, string> = {
  account_closed: "The bank account has been closed. Add a new bank account in your payout settings.",
  account_frozen: "The bank froze the account. Contact your bank, or add a different bank account.",
  bank_account_restricted: "The bank account has restrictions on the kind of deposits it accepts. Contact your bank or add another account.",
  bank_ownership_changed: "The bank account changed owner. Add your bank details again.",
  could_not_process: "The bank could not process this payout. We will try again in the next run.",
  debit_not_authorized: "Debits are not authorized on this bank account. Contact your bank.",
  declined: "The bank declined the payout. Contact your bank or add another account.",
  insufficient_funds: "The platform's Stripe balance was too low at the time. Nothing is wrong on your side; it will be paid again.",
  invalid_account_number: "The bank account number is wrong. Update your bank details.",
  incorrect_account_holder_name: "The account holder name does not match the bank's records. Update your bank details.",
  incorrect_account_holder_address: "The account holder address does not match the bank's records. Update your bank details.",
  incorrect_account_holder_tax_id: "The tax id does not match the bank's records. Update your details.",
  invalid_currency: "The bank account cannot receive this currency. Add an account in this currency.",
  no_account: "The bank could not find this account. Check the account and routing numbers.",
  unsupported_card: "The debit card can no longer receive payouts. Add a bank account or another card.",
  instant_payouts_unsupported: "Your card or bank account does not accept instant payouts. Add a debit card that does, or wait for the next payout.",
  // Our own codes (the payout run) and Stripe API errors met before the payout existed.
  account_invalid: "Your Stripe account cannot receive money yet. Finish setting up payouts.",
  payouts_not_allowed: "Payouts are disabled on your Stripe account. Finish the requirements Stripe lists.",
  balance_insufficient: "The platform's Stripe balance was too low at the time. It will be paid again.",
  transfer_failed: "Moving the money to your Stripe account failed. It will be retried.",
  rate_limited: "Stripe was busy. It will be retried automatically.",
  stripe_unavailable: "Stripe could not be reached. It will be retried automatically.",
};

const SKIP_REASONS: Record<string, string> = {
  below_threshold: "Your available balance is below the minimum payout amount; it rolls over to the next payout.",
  onboarding_incomplete: "Payouts are not set up yet: finish Stripe onboarding to get paid.",
  payouts_disabled: "Payouts are turned off for your account. Contact support.",
  paused: "Payouts are paused by the platform for now; your balance is safe and will be paid when they resume.",
  not_in_beta: "Payouts are rolling out gradually and your account is not in it yet.",
  not_eligible: "Your account is not eligible for a payout yet.",
  no_balance: "There is nothing available to pay out yet.",
  no_account: "Payouts are not set up yet: finish Stripe onboarding to get paid.",
  // Four-eyes approval of large payouts (lib/payouts/approval.ts).
  awaiting_approval:
    "This payout is above the amount a second person at the platform must approve. It is sent as soon as it is approved; your balance is safe meanwhile.",
  approval_pending:
    "An earlier payout of yours is still waiting for approval; this balance goes with it or with your next payout.",
  approval_expired:
    "This payout needed a second approval and was not approved before the payout cycle closed. The money never left your available balance and goes out with your next payout.",
  approval_rejected:
    "The platform did not approve this payout. The money stays in your available balance; contact support if you have questions.",
  duplicate_bank_account:
    "Your bank account is also registered to another payee. Payouts are on hold until the platform has checked it; contact support.",
};

export function payoutFailureText(code: string | null | undefined, message?: string | null): string {
  if (code && PAYOUT_FAILURES[code]) return PAYOUT_FAILURES[code];
  if (message) return message;
  if (code) return `The payout failed (${code.replaceAll("_", " ")}). Contact support if it happens again.`;
  return "The payout failed. Contact support if it happens again.";
}

export function skipReasonText(reason: string | null | undefined): string {
  if (reason && SKIP_REASONS[reason]) return SKIP_REASONS[reason];
  return reason ? reason.replaceAll("_", " ") : "Not paid in this run.";
}
