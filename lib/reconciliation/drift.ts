import { sql } from "drizzle-orm";
import type Stripe from "stripe";
import { type Db, queryRows } from "../../db/client";
import { toCents } from "../money";
import type { StripeGateway } from "../stripe/gateway";
import { closeBreak, openBreak } from "./breaks";

export type DriftGateway = Pick<StripeGateway, "retrieveBalance">;

/**
 * A connected account's balance at Stripe (available + pending, per currency) against the money the
 * ledger says the payee holds there (every bucket at the `connected` location, from the kept
 * balances). A difference is a balance_drift break; one that agrees again closes. Skipped while the
 * account has money moving (a transaction younger than the grace): the ledger may be a webhook behind.
 */
export async function checkBalanceDrift(
  db: Db,
  gateway: DriftGateway,
  input: { account: string; graceSeconds: number; balance?: Promise<Stripe.Balance> },
): Promise<{ opened: number; closed: number }> {
  const { account } = input;
  const [busy] = await queryRows(
    db,
    sql`select 1 from stripe_balance_transactions
        where account = ${account} and created > now() - make_interval(secs => ${input.graceSeconds}) limit 1`,
  );
  if (busy) return { opened: 0, closed: 0 };
  const balance = await (input.balance ?? gateway.retrieveBalance(account));
  const atStripe = new Map<string, number>();
  for (const part of [...balance.available, ...balance.pending]) atStripe.set(part.currency, (atStripe.get(part.currency) ?? 0) + part.amount);
  const ledger = await queryRows<{ currency: string; held: string }>(
    db,
    sql`select a.currency, coalesce(sum(b.balance), 0) as held
        from connected_accounts ca
        join ledger_accounts a on a.owner_type = 'payee' and a.payee_id = ca.payee_id and a.location = 'connected'
        left join ledger_balances b on b.account_id = a.id
        where ca.stripe_account_id = ${account}
        group by a.currency`,
  );
  const inLedger = new Map(ledger.map((r) => [r.currency, toCents(r.held)]));
  let opened = 0;
  let closed = 0;
  for (const currency of new Set([...atStripe.keys(), ...inLedger.keys()])) {
    const stripeAmount = atStripe.get(currency) ?? 0;
    const ledgerAmount = inLedger.get(currency) ?? 0;
    const subject = `${account}|balance|${currency}`;
    if (stripeAmount === ledgerAmount) {
      if (await closeBreak(db, subject)) closed++;
      continue;
    }
    const isNew = await openBreak(db, {
      kind: "balance_drift",
      subject,
      account,
      stripeObject: null,
      currency,
      stripeAmount,
      ledgerAmount,
      details: { available: balance.available.find((b) => b.currency === currency)?.amount ?? 0, pending: balance.pending.find((b) => b.currency === currency)?.amount ?? 0 },
    });
    if (isNew) opened++;
  }
  return { opened, closed };
}
