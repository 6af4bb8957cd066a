import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { afterCursor, nextCursor } from "../../db/paging";
import type { PayeeAccountKind } from "../../db/schema";
import { toCents } from "../money";

// A payee's earnings and deductions: one line per ledger transaction tagged with the payee, newest
// first by when the money moved (effective_at; a backfilled event is recorded late but dated right),
// with what it did to each of the payee's buckets. Keyset pagination on (effective_at, id) served by
// ledger_transactions_payee_effective_idx, then the entries of just that page through
// ledger_entries_transaction_idx: the cost is one page, however long the history is.

export type LedgerHistoryLine = {
  transactionId: string;
  kind: string;
  description: string;
  effectiveAt: Date;
  currency: string;
  /** Net change of the payee's money (all buckets): + earned, - deducted, 0 for a move between buckets. */
  net: number;
  /** Change per bucket, e.g. { available: -5000, in_transit: 5000 } for a payout being sent. */
  buckets: Partial<Record<PayeeAccountKind, number>>;
};

export type LedgerHistoryPage = { lines: LedgerHistoryLine[]; nextCursor: string | null };

const MAX_LIMIT = 100;

export async function listPayeeLedgerHistory(
  db: Db,
  payeeId: string,
  options: { limit?: number; cursor?: string | null } = {},
): Promise<LedgerHistoryPage> {
  const limit = Math.min(Math.max(options.limit ?? 25, 1), MAX_LIMIT);
  // effective_at is microsecond precision: it travels in the cursor as Postgres' own text (db/paging.ts).
  const after = afterCursor(sql`t.effective_at`, sql`t.id`, options.cursor);
  const txs = await queryRows<{
    id: string;
    kind: string;
    description: string;
    effective_at: string | Date;
    effective_at_text: string;
  }>(
    db,
    sql`select t.id, t.kind, t.description, t.effective_at, t.effective_at::text as effective_at_text
        from ledger_transactions t
        where t.payee_id = ${payeeId} ${after ? sql`and ${after}` : sql``}
        order by t.effective_at desc, t.id desc
        limit ${limit + 1}`,
  );
  const page = txs.slice(0, limit);
  if (page.length === 0) return { lines: [], nextCursor: null };

  const ids = page.map((t) => t.id);
  const entries = await queryRows<{ transaction_id: string; kind: PayeeAccountKind; currency: string; amount: string }>(
    db,
    sql`select e.transaction_id, a.kind, e.currency, sum(e.amount)::bigint as amount
        from ledger_entries e join ledger_accounts a on a.id = e.account_id
        where e.transaction_id in (${sql.join(
          ids.map((id) => sql`${id}::uuid`),
          sql`, `,
        )})
          and a.payee_id = ${payeeId}
        group by e.transaction_id, a.kind, e.currency`,
  );
  const byTx = new Map<string, { currency: string; buckets: Partial<Record<PayeeAccountKind, number>>; net: number }>();
  for (const e of entries) {
    const line = byTx.get(e.transaction_id) ?? { currency: e.currency, buckets: {}, net: 0 };
    const amount = toCents(e.amount);
    line.buckets[e.kind] = (line.buckets[e.kind] ?? 0) + amount;
    line.net += amount;
    byTx.set(e.transaction_id, line);
  }
  const lines = page.map((t) => {
    const agg = byTx.get(t.id);
    return {
      transactionId: t.id,
      kind: t.kind,
      description: t.description,
      effectiveAt: t.effective_at instanceof Date ? t.effective_at : new Date(t.effective_at),
      currency: agg?.currency ?? "",
      net: agg?.net ?? 0,
      buckets: agg?.buckets ?? {},
    };
  });
  return { lines, nextCursor: nextCursor(txs, limit, (t) => ({ at: t.effective_at_text, id: t.id })) };
}
