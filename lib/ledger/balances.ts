import { type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { FundsLocation, LedgerAccountKind, PayeeAccountKind } from "../../db/schema";
import { toCents } from "../money";

// Balances are read from ledger_balances, which the database keeps in step with the entries
// (0008_running_balances.sql): a balance costs the same whatever the history. A balance "as of" a
// moment is the kept balance less the entries effective after it, an index range over the recent
// entries only (ledger_entries_account_effective_idx), and exact for any moment.

export type PayeeBalances = Record<PayeeAccountKind, number>;
export type BalancesByCurrency = Record<string, PayeeBalances>;

const emptyBalances = (): PayeeBalances => ({ pending: 0, available: 0, held: 0, in_transit: 0, paid: 0 });

/**
 * The balance of each account `accounts` selects (a query yielding `id`), now, as of `at` (entries
 * effective at that moment included), or just `before` a moment (excluded: the close of a day is
 * before the next day starts). The kept balance sums the account's shards; later entries are taken
 * back out.
 */
export function accountBalancesSql(accounts: SQL, at?: Date | { before: Date }): SQL {
  const after =
    at instanceof Date
      ? sql`e.effective_at > ${at.toISOString()}::timestamptz`
      : at
        ? sql`e.effective_at >= ${at.before.toISOString()}::timestamptz`
        : undefined;
  const later = after
    ? sql`- coalesce((select sum(e.amount) from ledger_entries e where e.account_id = acc.id and ${after}), 0)`
    : sql``;
  return sql`
    select acc.id as account_id,
           coalesce((select sum(b.balance) from ledger_balances b where b.account_id = acc.id), 0) ${later} as balance
    from (${accounts}) acc`;
}

/** Every bucket of a payee per currency (all locations together), now or as of `at`. */
export async function payeeBalances(db: Db, payeeId: string, options: { at?: Date } = {}): Promise<BalancesByCurrency> {
  const rows = await payeeBalancesByLocation(db, payeeId, options);
  const out: BalancesByCurrency = {};
  for (const row of rows) {
    out[row.currency] ??= emptyBalances();
    out[row.currency]![row.kind] += row.balance;
  }
  return out;
}

/** A payee's balance per currency, kind and location (where the money is). */
export async function payeeBalancesByLocation(
  db: Db,
  payeeId: string,
  options: { at?: Date } = {},
): Promise<{ currency: string; kind: PayeeAccountKind; location: FundsLocation; balance: number }[]> {
  const rows = await queryRows<{ kind: PayeeAccountKind; location: FundsLocation; currency: string; balance: string }>(
    db,
    sql`select a.kind, a.location, a.currency, b.balance
        from ledger_accounts a
        join (${accountBalancesSql(sql`select id from ledger_accounts where owner_type = 'payee' and payee_id = ${payeeId}`, options.at)}) b
          on b.account_id = a.id
        order by a.currency, a.kind, a.location`,
  );
  return rows.map((r) => ({ currency: r.currency, kind: r.kind, location: r.location, balance: toCents(r.balance) }));
}

/** A payee's available balance in one currency (all locations). */
export async function availableBalance(db: Db, payeeId: string, currency: string, options: { at?: Date } = {}) {
  const balances = await payeeBalances(db, payeeId, options);
  return balances[currency]?.available ?? 0;
}

/** Balance of one platform account (fees, stripe_clearing, ...) per currency. */
export async function platformBalances(db: Db, kind: LedgerAccountKind, options: { at?: Date } = {}): Promise<Record<string, number>> {
  const rows = await queryRows<{ currency: string; balance: string }>(
    db,
    sql`select a.currency, b.balance
        from ledger_accounts a
        join (${accountBalancesSql(sql`select id from ledger_accounts where owner_type = 'platform' and kind = ${kind}`, options.at)}) b
          on b.account_id = a.id`,
  );
  return Object.fromEntries(rows.map((r) => [r.currency, toCents(r.balance)]));
}

/**
 * Stop every balance from moving until the caller's transaction ends (SHARE ROW EXCLUSIVE on
 * ledger_balances: readers go on, postings wait, and two freezers queue). For a statement that reads
 * and then moves every payee's balance at once, such as planning a run.
 */
export async function freezeBalances(tx: Db): Promise<void> {
  await tx.execute(sql`lock table ledger_balances in share row exclusive mode`);
}

/**
 * Lock the balance rows of payees' accounts of one kind (every location), in account order, for the
 * rest of the caller's transaction: what is read from them cannot change until it commits. Planning
 * locks every available balance it is about to pay out.
 */
export async function lockPayeeBalances(tx: Db, input: { kind: PayeeAccountKind; payeeIds?: string[] | null; currency?: string }) {
  const payees = input.payeeIds?.length
    ? sql`and a.payee_id in (select (jsonb_array_elements_text(${JSON.stringify(input.payeeIds)}::jsonb))::uuid)`
    : sql``;
  const currency = input.currency ? sql`and a.currency = ${input.currency}` : sql``;
  await tx.execute(sql`
    select b.account_id from ledger_balances b
    where b.shard = 0 and b.account_id in (
      select a.id from ledger_accounts a where a.owner_type = 'payee' and a.kind = ${input.kind} ${payees} ${currency})
    order by b.account_id for update`);
}

/**
 * The ledger's own health check: every transaction sums to zero per currency. Returns the offending
 * transactions (empty when healthy). Reads every entry: for tests and the invariant command; the
 * database trigger makes a non-empty answer impossible in practice.
 */
export async function unbalancedTransactions(db: Db): Promise<{ transactionId: string; currency: string; sum: number }[]> {
  const rows = await queryRows<{ transaction_id: string; currency: string; total: string }>(
    db,
    sql`select transaction_id, currency, sum(amount)::bigint as total from ledger_entries
        group by transaction_id, currency having sum(amount) <> 0`,
  );
  return rows.map((r) => ({ transactionId: r.transaction_id, currency: r.currency, sum: toCents(r.total) }));
}

export type BalanceDrift = { accountId: string; kept: number; fromEntries: number };

/**
 * The running balances' invariant: each kept balance equals the sum of its account's entries.
 * Returns the accounts where they differ (empty when healthy). With `sample`, checks that many
 * accounts picked at random (the hourly sweep); without, every account (the CLI, tests).
 */
export async function balanceDrifts(db: Db, options: { sample?: number } = {}): Promise<{ checked: number; drifts: BalanceDrift[] }> {
  const accounts = options.sample
    ? sql`select id from ledger_accounts order by random() limit ${options.sample}`
    : sql`select id from ledger_accounts`;
  const rows = await queryRows<{ account_id: string; kept: string; from_entries: string; checked: string }>(
    db,
    sql`with acc as materialized (${accounts}),
        kept as (select acc.id, coalesce(sum(b.balance), 0) as kept from acc left join ledger_balances b on b.account_id = acc.id group by acc.id),
        summed as (select acc.id, coalesce(sum(e.amount), 0) as from_entries from acc left join ledger_entries e on e.account_id = acc.id group by acc.id)
        select k.id as account_id, k.kept, s.from_entries, (select count(*) from acc) as checked
        from kept k join summed s on s.id = k.id`,
  );
  const drifts = rows
    .filter((r) => toCents(r.kept) !== toCents(r.from_entries))
    .map((r) => ({ accountId: r.account_id, kept: toCents(r.kept), fromEntries: toCents(r.from_entries) }));
  return { checked: rows.length, drifts };
}

/**
 * Where to take `amount` of a payee's available or held money from: the preferred location first,
 * then the other, from the balances locked for the caller's transaction; a shortfall is asked of the
 * preferred location (the poster refuses it unless the posting may overdraw).
 */
export async function drawFromLocations(
  tx: Db,
  input: { payeeId: string; currency: string; kind: "available" | "held"; amount: number; prefer: "platform" | "connected" },
): Promise<{ location: "platform" | "connected"; amount: number }[]> {
  await lockPayeeBalances(tx, { kind: input.kind, payeeIds: [input.payeeId], currency: input.currency });
  const rows = await queryRows<{ location: "platform" | "connected"; balance: string }>(
    tx,
    sql`select a.location, coalesce(sum(b.balance), 0) as balance
        from ledger_accounts a left join ledger_balances b on b.account_id = a.id
        where a.owner_type = 'payee' and a.payee_id = ${input.payeeId} and a.kind = ${input.kind} and a.currency = ${input.currency}
        group by a.location`,
  );
  const other: "platform" | "connected" = input.prefer === "platform" ? "connected" : "platform";
  const balance = (location: string) => Math.max(0, toCents(rows.find((r) => r.location === location)?.balance ?? 0));
  const fromOther = Math.min(Math.max(0, input.amount - balance(input.prefer)), balance(other));
  const parts = [
    { location: input.prefer, amount: input.amount - fromOther },
    { location: other, amount: fromOther },
  ];
  return parts.filter((p) => p.amount !== 0);
}
