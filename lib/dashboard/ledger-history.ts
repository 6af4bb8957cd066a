import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { PayeeAccountKind } from "../../db/schema";
import { toCents } from "../money";
import { isUuid } from "../schemas/common";
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
};

export type LedgerHistoryPage = { lines: LedgerHistoryLine[]; nextCursor: string | null };

const MAX_LIMIT = 100;

export async function listPayeeLedgerHistory(
  db: Db,
  payeeId: string,
  options: { limit?: number; cursor?: string | null } = {},
): Promise<LedgerHistoryPage> {
  const limit = Math.min(Math.max(options.limit ?? 25, 1), MAX_LIMIT);
  const cursor = decodeHistoryCursor(options.cursor);
  // effective_at is microsecond precision: it travels in the cursor as Postgres' own text, not a JS Date.
  const after = cursor ? sql`and (t.effective_at, t.id) < (${cursor.at}::timestamptz, ${cursor.id}::uuid)` : sql``;
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
        where t.payee_id = ${payeeId} ${after}
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
      label: payeeLedgerText(t.kind, { holdKind: t.hold_kind, outcome: t.outcome }),
      description: t.description,
      effectiveAt: t.effective_at instanceof Date ? t.effective_at : new Date(t.effective_at),
      currency: agg?.currency ?? "",
      net: agg?.net ?? 0,
      buckets: agg?.buckets ?? {},
    };
  });
  const last = page[page.length - 1]!;
  return {
    lines,
    nextCursor: txs.length > limit ? encodeHistoryCursor({ at: last.effective_at_text, id: last.id }) : null,
  };
}

type HistoryCursor = { at: string; id: string };
const PG_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)?$/;

export function encodeHistoryCursor(c: HistoryCursor): string {
  return Buffer.from(`${c.at}|${c.id}`, "utf8").toString("base64url");
}

/** A cursor from the URL; anything malformed is treated as "first page" rather than an error page. */
export function decodeHistoryCursor(raw: string | null | undefined): HistoryCursor | null {
  if (!raw) return null;
  const [at, id] = Buffer.from(raw, "base64url").toString("utf8").split("|");
  if (!at || !id || !isUuid(id) || !PG_TIMESTAMP.test(at)) return null;
  return { at, id };
}
