import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { afterCursor, nextCursor } from "../../db/paging";
import type { FundsLocation, PayeeAccountKind } from "../../db/schema";
import { toCents } from "../money";
import { KINDS_HIDDEN_FROM_PAYEES, payeeLedgerText } from "./ledger-wording";

// A payee's earnings and deductions: one line per ledger transaction tagged with the payee, newest
// first by when the money moved (effective_at; a backfilled event is recorded late but dated right),
// with what it did to each of the payee's buckets. Keyset pagination on (effective_at, id) served by
// ledger_transactions_payee_effective_idx, then the entries of just that page through
// ledger_entries_transaction_idx: the cost is one page, however long the history is. Bookkeeping
// that moved none of the payee's money (KINDS_HIDDEN_FROM_PAYEES) is left out in the query, so
// pages stay full.

export type LedgerHistoryLine = {
  transactionId: string;
  kind: string;
  /** What it means to the payee (lib/dashboard/ledger-wording.ts). */
  label: string;
  /** Payrun's own description, for ops: names Stripe ids and ledger buckets. */
  description: string;
  effectiveAt: Date;
  currency: string;
  /** Net change of the payee's money (all buckets): + earned, - deducted, 0 for a move between buckets. */
  net: number;
  /** Change per bucket, e.g. { available: -5000, in_transit: 5000 } for a payout being sent. */
  buckets: Partial<Record<PayeeAccountKind, number>>;
  /** Change per place the money is, e.g. { platform: -5000, connected: 5000 } for a transfer. */
  locations: Partial<Record<FundsLocation, number>>;
  /** How much moved (the sum of what arrived anywhere): a move's size when `net` is 0. */
  moved: number;
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
    hold_kind: string | null;
    outcome: string | null;
  }>(
    db,
    sql`select t.id, t.kind, t.description, t.effective_at, t.effective_at::text as effective_at_text,
               t.metadata->>'kind' as hold_kind, t.metadata->>'outcome' as outcome
        from ledger_transactions t
        where t.payee_id = ${payeeId} ${after ? sql`and ${after}` : sql``}
          and t.kind not in (${sql.join(
            KINDS_HIDDEN_FROM_PAYEES.map((k) => sql`${k}`),
            sql`, `,
          )})
        order by t.effective_at desc, t.id desc
        limit ${limit + 1}`,
  );
  const page = txs.slice(0, limit);
  if (page.length === 0) return { lines: [], nextCursor: null };

  const ids = page.map((t) => t.id);
  const entries = await queryRows<{
    transaction_id: string;
    kind: PayeeAccountKind;
    location: FundsLocation;
    currency: string;
    amount: string;
  }>(
    db,
    sql`select e.transaction_id, a.kind, a.location, e.currency, sum(e.amount)::bigint as amount
        from ledger_entries e join ledger_accounts a on a.id = e.account_id
        where e.transaction_id in (${sql.join(
          ids.map((id) => sql`${id}::uuid`),
          sql`, `,
        )})
          and a.payee_id = ${payeeId}
        group by e.transaction_id, a.kind, a.location, e.currency`,
  );
  type Sums = Pick<LedgerHistoryLine, "currency" | "buckets" | "locations" | "net" | "moved">;
  const byTx = new Map<string, Sums>();
  for (const e of entries) {
    const line = byTx.get(e.transaction_id) ?? { currency: e.currency, buckets: {}, locations: {}, net: 0, moved: 0 };
    const amount = toCents(e.amount);
    line.buckets[e.kind] = (line.buckets[e.kind] ?? 0) + amount;
    line.locations[e.location] = (line.locations[e.location] ?? 0) + amount;
    line.net += amount;
    if (amount > 0) line.moved += amount;
    byTx.set(e.transaction_id, line);
  }
  const lines = page.map((t) => {
    const agg = byTx.get(t.id);
    return {
      transactionId: t.id,
      kind: t.kind,
      label: payeeLedgerText(t.kind, { holdKind: t.hold_kind, outcome: t.outcome }),
      description: t.description,
      effectiveAt: t.effective_at instanceof Date ? t.effective_at : new Date(t.effective_at),
      currency: agg?.currency ?? "",
      net: agg?.net ?? 0,
      buckets: agg?.buckets ?? {},
      locations: agg?.locations ?? {},
      moved: agg?.moved ?? 0,
    };
  });
  return { lines, nextCursor: nextCursor(txs, limit, (t) => ({ at: t.effective_at_text, id: t.id })) };
}
