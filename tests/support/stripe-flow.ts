import type Stripe from "stripe";
import type { Db } from "../../db/client";
import { payeeBalancesByLocation, platformBalances } from "../../lib/ledger";
import { createPayeeWithAccount, deliver, handlerEnv } from "../integration/webhooks/helpers";
import type { TestStripe } from "./stripe";

/**
 * Money moved at the simulator, then its events delivered through the real intake (signed, stored,
 * applied), with the real gateway for what handlers read from Stripe: the ledger against Stripe as
 * a webhook endpoint would see it.
 */
export class StripeFlow {
  private seen = new Set<string>();
  /** Events a deliverNew was told to skip: webhooks that have not come (yet). */
  private held: Stripe.Event[] = [];
  constructor(
    readonly db: Db,
    readonly ts: TestStripe,
    readonly env = handlerEnv,
  ) {}

  /** A payee with an onboarded Express account, known to Payrun. */
  async payee(label: string): Promise<{ payeeId: string; account: string }> {
    const account = await this.ts.gateway.createExpressAccount({
      email: `${label}@example.com`,
      country: "US",
      payeeId: label,
      idempotencyKey: `flow-acct-${label}-${Date.now()}`,
    });
    this.ts.simulator.onboardAccount(account.id);
    const { payeeId } = await createPayeeWithAccount(this.db, account.id);
    await this.deliverNew();
    return { payeeId, account: account.id };
  }

  /** Connected accounts whose own events (payouts, their failures) are delivered too, as to a Connect endpoint. */
  private accounts = new Set<string>();
  watch(account: string): void {
    this.accounts.add(account);
  }

  /** Deliver every event the simulator made since the last call, oldest first, each once. */
  async deliverNew(options: { skip?: (event: Stripe.Event) => boolean } = {}): Promise<string[]> {
    const fresh: Stripe.Event[] = [];
    for (const account of [undefined, ...this.accounts]) {
      const ofAccount: Stripe.Event[] = [];
      for (let startingAfter: string | undefined; ; ) {
        const page = await this.ts.stripe.events.list(
          { limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) },
          account ? { stripeAccount: account } : {},
        );
        const unseen = page.data.filter((e) => !this.seen.has(e.id));
        ofAccount.push(...unseen);
        if (!page.has_more || unseen.length < page.data.length) break;
        startingAfter = page.data.at(-1)!.id;
      }
      fresh.push(...ofAccount.reverse());
    }
    // Oldest first across accounts; the sort is stable, so each account's own order is kept.
    fresh.sort((a, b) => a.created - b.created);
    const statuses: string[] = [];
    for (const event of fresh) {
      this.seen.add(event.id);
      if (options.skip?.(event)) {
        this.held.push(event);
        continue;
      }
      const result = await deliver(this.db, event, { env: this.env, gateway: () => this.ts.gateway });
      statuses.push(`${event.type}:${result.status}`);
    }
    return statuses;
  }

  /** The webhooks skipped so far arrive at last, oldest first. */
  async deliverHeld(): Promise<string[]> {
    const late = this.held.splice(0);
    const statuses: string[] = [];
    for (const event of late) {
      const result = await deliver(this.db, event, { env: this.env, gateway: () => this.ts.gateway });
      statuses.push(`${event.type}:${result.status}`);
    }
    return statuses;
  }

  /** What Stripe holds on the connected account (available + pending), per currency. */
  stripeBalance(account: string, currency = "usd"): number {
    const b = this.ts.simulator.balances(account).balances.find((x) => x.currency === currency);
    return (b?.available ?? 0) + (b?.pending ?? 0);
  }

  /** What the ledger says the payee holds on their connected account (every bucket there). */
  async ledgerOnConnected(payeeId: string, currency = "usd"): Promise<number> {
    return (await payeeBalancesByLocation(this.db, payeeId))
      .filter((b) => b.currency === currency && b.location === "connected")
      .reduce((sum, b) => sum + b.balance, 0);
  }

  async platform(kind: "fees" | "losses" | "stripe_fees" | "stripe_clearing", currency = "usd"): Promise<number> {
    return (await platformBalances(this.db, kind))[currency] ?? 0;
  }
}
