/** Available and pending funds of one account in one currency, in integer minor units. */
export interface Funds {
  available: number;
  pending: number;
}

export interface PendingFunds {
  account: string;
  currency: string;
  amount: number;
  availableOn: number;
  balanceTransactionId: string;
}

/**
 * Per-account, per-currency balances. Credits may land as pending with an `available_on` time;
 * `releaseDue` moves them to available when the simulated clock passes it (clock advances only,
 * never on the request path).
 */
export class BalanceBook {
  private readonly funds = new Map<string, Map<string, Funds>>();
  private pendingCredits: PendingFunds[] = [];

  get(account: string, currency: string): Funds {
    let byCurrency = this.funds.get(account);
    if (!byCurrency) {
      byCurrency = new Map();
      this.funds.set(account, byCurrency);
    }
    let funds = byCurrency.get(currency);
    if (!funds) {
      funds = { available: 0, pending: 0 };
      byCurrency.set(currency, funds);
    }
    return funds;
  }

  currencies(account: string): string[] {
    return [...(this.funds.get(account)?.keys() ?? [])];
  }

  accounts(): string[] {
    return [...this.funds.keys()];
  }

  /** Positive or negative change to available funds (negative balances are allowed, as Stripe allows after disputes). */
  adjustAvailable(account: string, currency: string, amount: number): void {
    this.get(account, currency).available += amount;
  }

  addPending(
    account: string,
    currency: string,
    amount: number,
    availableOn: number,
    balanceTransactionId: string,
  ): void {
    this.get(account, currency).pending += amount;
    this.pendingCredits.push({ account, currency, amount, availableOn, balanceTransactionId });
  }

  /** Moves every pending credit due by `now` to available; returns the balance transactions that became available. */
  releaseDue(now: number): string[] {
    const released: string[] = [];
    const stillPending: PendingFunds[] = [];
    for (const credit of this.pendingCredits) {
      if (credit.availableOn > now) {
        stillPending.push(credit);
        continue;
      }
      const funds = this.get(credit.account, credit.currency);
      funds.pending -= credit.amount;
      funds.available += credit.amount;
      released.push(credit.balanceTransactionId);
    }
    this.pendingCredits = stillPending;
    return released;
  }

  clear(): void {
    this.funds.clear();
    this.pendingCredits = [];
  }

  exportState(): {
    funds: Array<{ account: string; currency: string } & Funds>;
    pendingCredits: PendingFunds[];
  } {
    const funds: Array<{ account: string; currency: string } & Funds> = [];
    for (const [account, byCurrency] of this.funds)
      for (const [currency, f] of byCurrency)
        funds.push({ account, currency, available: f.available, pending: f.pending });
    return { funds, pendingCredits: [...this.pendingCredits] };
  }

  importState(saved: ReturnType<BalanceBook["exportState"]>): void {
    this.clear();
    for (const f of saved.funds)
      Object.assign(this.get(f.account, f.currency), { available: f.available, pending: f.pending });
    this.pendingCredits = [...saved.pendingCredits];
  }
}
