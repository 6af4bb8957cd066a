import type Stripe from "stripe";
import { expect } from "vitest";

// Reads an account's money the way a reconciler would: through the SDK, balance transactions and
// the balance, with Stripe-Account for connected accounts.

function options(account: string | undefined): Stripe.RequestOptions {
  return account ? { stripeAccount: account } : {};
}

export async function allBalanceTransactions(
  stripe: Stripe,
  account?: string,
  params: Stripe.BalanceTransactionListParams = {},
): Promise<Stripe.BalanceTransaction[]> {
  const transactions: Stripe.BalanceTransaction[] = [];
  for await (const transaction of stripe.balanceTransactions.list(
    { limit: 100, ...params },
    options(account),
  ))
    transactions.push(transaction);
  return transactions;
}

/** Available + pending, in `currency`. */
export async function totalBalance(stripe: Stripe, account?: string, currency = "usd"): Promise<number> {
  const balance = await stripe.balance.retrieve({}, options(account));
  const available = balance.available.find((b) => b.currency === currency)?.amount ?? 0;
  const pending = balance.pending.find((b) => b.currency === currency)?.amount ?? 0;
  return available + pending;
}

/**
 * Every balance transaction is internally consistent (net = amount − fee, fee = Σ fee_details)
 * and, per currency, the account's transactions add up to its balance (available + pending).
 */
export async function expectTransactionsToMatchBalance(stripe: Stripe, account?: string): Promise<void> {
  const sums = new Map<string, number>();
  for (const transaction of await allBalanceTransactions(stripe, account)) {
    expect(transaction.net, transaction.id).toBe(transaction.amount - transaction.fee);
    expect(transaction.fee, transaction.id).toBe(
      transaction.fee_details.reduce((sum, detail) => sum + detail.amount, 0),
    );
    sums.set(transaction.currency, (sums.get(transaction.currency) ?? 0) + transaction.net);
  }
  const balance = await stripe.balance.retrieve({}, options(account));
  const currencies = new Set([...sums.keys(), ...balance.available.map((b) => b.currency)]);
  for (const currency of currencies) {
    const available = balance.available.find((b) => b.currency === currency)?.amount ?? 0;
    const pending = balance.pending.find((b) => b.currency === currency)?.amount ?? 0;
    expect(sums.get(currency) ?? 0, `${account ?? "platform"} ${currency}`).toBe(available + pending);
  }
}

/** Sum of `net` over the account's balance transactions of these types (e.g. fee revenue). */
export async function netOfTypes(stripe: Stripe, types: string[], account?: string): Promise<number> {
  return (await allBalanceTransactions(stripe, account))
    .filter((transaction) => types.includes(transaction.type))
    .reduce((sum, transaction) => sum + transaction.net, 0);
}
