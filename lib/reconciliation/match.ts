import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { toCents } from "../money";
import { type BreakFinding, closeBreak, openBreak } from "./breaks";


type Side = { amount: number; newest: Date };

/**
 * Match an account's objects that changed since `since` (new balance transactions, new ledger
 * references) and those with an open break: per object and currency, what Stripe's balance
 * transactions add up to against what the ledger's postings expect. What disagrees (and is older
 * than the grace) is a break; what agrees closes its break. The cost follows what changed, not the
 * history.
 */
export async function matchAccount(
  db: Db,
  input: { account: string; since: Date; graceSeconds: number },
): Promise<{ opened: number; closed: number }> {
  const { account } = input;
  const since = input.since.toISOString();
  const rows = await queryRows<{ side: "stripe" | "ledger"; object: string; currency: string; amount: string; newest: string | Date }>(
    db,
    sql`with dirty as (
          select primary_object as object from stripe_balance_transactions
            where account = ${account} and scope = 'payrun' and ingested_at >= ${since}::timestamptz
          union
          select stripe_object from ledger_stripe_refs where stripe_account = ${account} and created_at >= ${since}::timestamptz
          union
          select stripe_object from reconciliation_breaks
            where account = ${account} and status = 'open' and stripe_object is not null and kind <> 'balance_drift'
        )
        select 'stripe' as side, b.primary_object as object, b.currency, sum(b.net) as amount, max(b.created) as newest
          from stripe_balance_transactions b
         where b.account = ${account} and b.scope = 'payrun' and b.primary_object in (select object from dirty)
         group by b.primary_object, b.currency
        union all
        select 'ledger', r.stripe_object, r.currency, sum(r.amount), max(r.created_at)
          from ledger_stripe_refs r
         where r.stripe_account = ${account} and r.stripe_object in (select object from dirty)
         group by r.stripe_object, r.currency`,
  );
  const objects = new Map<string, { stripe: Map<string, Side>; ledger: Map<string, Side> }>();
  for (const r of rows) {
    const o = objects.get(r.object) ?? { stripe: new Map(), ledger: new Map() };
    o[r.side].set(r.currency, { amount: toCents(r.amount), newest: new Date(r.newest) });
    objects.set(r.object, o);
  }
  const graceEnd = Date.now() - input.graceSeconds * 1000;
  let opened = 0;
  let closed = 0;
  for (const [object, o] of objects) {
    const subject = `${account}|${object}`;
    const finding = compare(account, object, subject, o, graceEnd);
    if (finding === "agrees") {
      if (await closeBreak(db, subject)) closed++;
    } else if (finding !== "too_young" && (await openBreak(db, finding))) {
      opened++;
    }
  }
  return { opened, closed };
}

function compare(
  account: string,
  object: string,
  subject: string,
  o: { stripe: Map<string, Side>; ledger: Map<string, Side> },
  graceEnd: number,
): BreakFinding | "agrees" | "too_young" {
  const base = { subject, account, stripeObject: object };
  const currencies = new Set([...o.stripe.keys(), ...o.ledger.keys()]);
  const young = [...o.stripe.values(), ...o.ledger.values()].some((side) => side.newest.getTime() > graceEnd);
  if (o.stripe.size > 0 && o.ledger.size > 0 && ![...o.stripe.keys()].some((c) => o.ledger.has(c))) {
    return young
      ? "too_young"
      : {
          ...base,
          kind: "currency_mismatch",
          currency: [...o.stripe.keys()][0]!,
          stripeAmount: [...o.stripe.values()][0]!.amount,
          ledgerAmount: [...o.ledger.values()][0]!.amount,
          details: { stripe: Object.fromEntries([...o.stripe].map(([c, s]) => [c, s.amount])), ledger: Object.fromEntries([...o.ledger].map(([c, s]) => [c, s.amount])) },
        };
  }
  for (const currency of currencies) {
    const s = o.stripe.get(currency);
    const l = o.ledger.get(currency);
    if (s && l && s.amount === l.amount) continue;
    if (young) return "too_young";
    // A payout on a connected account that no payout of Payrun's made: money left by hand or by an
    // automatic schedule; reported as payouts missing transfers (lib/reconciliation/payouts.ts).
    const kind = s && !l ? (object.startsWith("po_") && account !== "platform" ? "payout_missing_transfers" : "missing_in_ledger") : !s ? "missing_at_stripe" : "amount_mismatch";
    return { ...base, kind, currency, stripeAmount: s?.amount ?? null, ledgerAmount: l?.amount ?? null, details: {} };
  }
  return "agrees";
}
