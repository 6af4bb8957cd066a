import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { LedgerAccountKind, PayeeAccountKind } from "../../db/schema";
import { toCents } from "../money";

export type PayeeBalances = Record<PayeeAccountKind, number>;
export type BalancesByCurrency = Record<string, PayeeBalances>;

const emptyBalances = (): PayeeBalances => ({ pending: 0, available: 0, held: 0, in_transit: 0, paid: 0 });

/** Every bucket of a payee per currency, summed in SQL from the entries (optionally up to `at`). */
export async function payeeBalances(db: Db, payeeId: string, options: { at?: Date } = {}): Promise<BalancesByCurrency> {
  const cutoff = options.at ? sql`and e.effective_at <= ${options.at.toISOString()}::timestamptz` : sql``;
  const rows = await queryRows<{ kind: PayeeAccountKind; currency: string; balance: string }>(
    db,
    sql`select a.kind, a.currency, coalesce(sum(e.amount), 0)::bigint as balance
        from ledger_accounts a
        left join ledger_entries e on e.account_id = a.id ${cutoff}
        where a.owner_type = 'payee' and a.payee_id = ${payeeId}
        group by a.kind, a.currency`,
  );
  const out: BalancesByCurrency = {};
  for (const row of rows) {
    out[row.currency] ??= emptyBalances();
    out[row.currency]![row.kind] = toCents(row.balance);
  }
  return out;
}

/** A payee's available balance in one currency. */
export async function availableBalance(db: Db, payeeId: string, currency: string, options: { at?: Date } = {}) {
  const balances = await payeeBalances(db, payeeId, options);
  return balances[currency]?.available ?? 0;
}

/** Balance of one platform account (fees, stripe_clearing, adjustments) per currency. */
export async function platformBalances(db: Db, kind: LedgerAccountKind): Promise<Record<string, number>> {
  const rows = await queryRows<{ currency: string; balance: string }>(
    db,
    sql`select a.currency, coalesce(sum(e.amount), 0)::bigint as balance
        from ledger_accounts a left join ledger_entries e on e.account_id = a.id
        where a.owner_type = 'platform' and a.kind = ${kind}
        group by a.currency`,
  );
  return Object.fromEntries(rows.map((r) => [r.currency, toCents(r.balance)]));
}

/**
 * The ledger's own health check: every transaction sums to zero per currency and the whole ledger
 * sums to zero. Returns the offending transactions (empty when healthy). Cheap enough for tests and
 * the reconciliation job; the database trigger makes a non-empty answer impossible in practice.
 */
export async function unbalancedTransactions(db: Db): Promise<{ transactionId: string; currency: string; sum: number }[]> {
  const rows = await queryRows<{ transaction_id: string; currency: string; total: string }>(
    db,
    sql`select transaction_id, currency, sum(amount)::bigint as total from ledger_entries
        group by transaction_id, currency having sum(amount) <> 0`,
  );
  return rows.map((r) => ({ transactionId: r.transaction_id, currency: r.currency, sum: toCents(r.total) }));
}
