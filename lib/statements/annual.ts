import { type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { notFound } from "../errors";
import { toCents } from "../money";
import { zonedInstant } from "../time";

// Annual payee statements: per payee and currency, what the ledger says the year brought (gross
// earnings, fees, refunds and disputes taken back, reserves, adjustments) and what was paid out to the
// bank by month, with the tax identity Stripe holds for the payee (country, business type). Every
// figure is a sum of the payee's ledger transactions of one category, effective within the year in
// PAYOUT_TIMEZONE; `statementTransactions` lists them (the drill-down). Read-only.

export const STATEMENT_CATEGORIES = [
  "gross_earnings",
  "fees",
  "refunds_and_disputes",
  "adjustments",
  "reserves_held",
  "reserves_released",
  "paid_out",
] as const;
export type StatementCategory = (typeof STATEMENT_CATEGORIES)[number];

/** What each category is, in words (the printable page, the CSV header's documentation). */
export const CATEGORY_TEXT: Record<StatementCategory, string> = {
  gross_earnings: "Gross earnings: customer payments before the platform fee, and placement shares",
  fees: "Platform fees (less fees refunded)",
  refunds_and_disputes: "Refunds and disputes taken back",
  adjustments: "Adjustments by the platform",
  reserves_held: "Rolling reserve held back",
  reserves_released: "Rolling reserve released",
  paid_out: "Paid out to the bank (less payouts returned)",
};

/** The year's bounds in the zone: [1 January 00:00, next 1 January 00:00). */
export function yearBounds(year: number, timeZone: string): { from: Date; to: Date } {
  return { from: zonedInstant(timeZone, year, 1, 1), to: zonedInstant(timeZone, year + 1, 1, 1) };
}

/**
 * Per ledger transaction of the year, its amount in each category (one row per transaction,
 * currency and category; nothing for a category it does not touch). The sums it is built from:
 * the change of the payee's own accounts (net), of their `held` and `paid` accounts, and the
 * platform's `fees` line of the same transaction.
 */
function categorisedSql(input: { payeeIds: SQL; from: Date; to: Date; timeZone: string }): SQL {
  return sql`
    with tx as (
      select t.id, t.kind, t.payee_id, t.effective_at, t.description, e.currency,
             to_char(t.effective_at at time zone ${input.timeZone}, 'MM')::int as month,
             coalesce(sum(e.amount) filter (where a.owner_type = 'payee'), 0) as net,
             coalesce(sum(e.amount) filter (where a.owner_type = 'payee' and a.kind = 'held'), 0) as held,
             coalesce(sum(e.amount) filter (where a.owner_type = 'payee' and a.kind = 'paid'), 0) as paid,
             coalesce(sum(e.amount) filter (where a.owner_type = 'platform' and a.kind = 'fees'), 0) as fees,
             t.metadata->>'kind' as hold_kind
      from ledger_transactions t
      join ledger_entries e on e.transaction_id = t.id
      join ledger_accounts a on a.id = e.account_id
      where t.payee_id in (${input.payeeIds})
        and t.effective_at >= ${input.from.toISOString()}::timestamptz and t.effective_at < ${input.to.toISOString()}::timestamptz
        and (a.owner_type = 'platform' or a.payee_id = t.payee_id)
      group by t.id, e.currency
    )
    select tx.id, tx.kind, tx.payee_id, tx.effective_at, tx.description, tx.currency, tx.month, c.category, c.amount
    from tx
    cross join lateral (values
      ('gross_earnings', case tx.kind when 'earning' then tx.net + tx.fees when 'placement_share' then tx.net end),
      ('fees', case tx.kind when 'earning' then tx.fees when 'fee_refund' then -tx.net end),
      ('refunds_and_disputes', case when tx.kind in ('refund', 'refund_failed', 'transfer_reversed', 'dispute_lost') then -tx.net end),
      ('adjustments', case when tx.kind = 'adjustment' then tx.net end),
      ('reserves_held', case when tx.kind = 'earning' or (tx.kind = 'hold' and tx.hold_kind = 'rolling_reserve') then tx.held end),
      ('reserves_released', case when tx.kind = 'hold_release' and tx.hold_kind = 'rolling_reserve' then -tx.held end),
      ('paid_out', tx.paid)
    ) c(category, amount)
    where c.amount is not null and c.amount <> 0`;
}

export type CurrencyStatement = {
  currency: string;
  totals: Record<StatementCategory, number>;
  /** Ledger transactions behind each total (the drill-down lists them). */
  transactionCounts: Record<StatementCategory, number>;
  /** Paid out (net of returns) per month, January first. */
  paidOutByMonth: number[];
};

export type TaxIdentity = { country: string; businessType: string | null; stripeAccountId: string | null };

export type PayeeStatement = {
  payeeId: string;
  displayName: string;
  year: number;
  timeZone: string;
  periodStart: string;
  periodEnd: string;
  taxIdentity: TaxIdentity;
  currencies: CurrencyStatement[];
};

type AggRow = {
  payee_id: string;
  currency: string;
  category: StatementCategory;
  month: number;
  amount: string | number;
  n: string | number;
};

function emptyStatement(currency: string): CurrencyStatement {
  const zero = () =>
    Object.fromEntries(STATEMENT_CATEGORIES.map((c) => [c, 0])) as Record<StatementCategory, number>;
  return {
    currency,
    totals: zero(),
    transactionCounts: zero(),
    paidOutByMonth: Array.from({ length: 12 }, () => 0),
  };
}

/** Fold the per-month category sums into statements per payee and currency. */
function fold(rows: AggRow[]): Map<string, CurrencyStatement[]> {
  const byPayee = new Map<string, Map<string, CurrencyStatement>>();
  for (const r of rows) {
    const currencies = byPayee.get(r.payee_id) ?? new Map<string, CurrencyStatement>();
    byPayee.set(r.payee_id, currencies);
    const s = currencies.get(r.currency) ?? emptyStatement(r.currency);
    currencies.set(r.currency, s);
    const amount = toCents(r.amount);
    s.totals[r.category] += amount;
    s.transactionCounts[r.category] += Number(r.n);
    if (r.category === "paid_out") s.paidOutByMonth[r.month - 1]! += amount;
  }
  return new Map(
    [...byPayee].map(([payeeId, m]) => [
      payeeId,
      [...m.values()].sort((a, b) => a.currency.localeCompare(b.currency)),
    ]),
  );
}

async function aggregate(
  db: Db,
  payeeIds: SQL,
  year: number,
  timeZone: string,
): Promise<Map<string, CurrencyStatement[]>> {
  const { from, to } = yearBounds(year, timeZone);
  const rows = await queryRows<AggRow>(
    db,
    sql`select payee_id, currency, category, month, sum(amount) as amount, count(*) as n
        from (${categorisedSql({ payeeIds, from, to, timeZone })}) x
        group by payee_id, currency, category, month`,
  );
  return fold(rows);
}

type PayeeRow = {
  id: string;
  display_name: string;
  country: string;
  account_country: string | null;
  business_type: string | null;
  stripe_account_id: string | null;
};

const payeeRowsSql = (where: SQL) => sql`
  select p.id, p.display_name, p.country, c.country as account_country, c.business_type, c.stripe_account_id
  from payees p left join connected_accounts c on c.payee_id = p.id
  ${where}`;

function statementOf(
  p: PayeeRow,
  year: number,
  timeZone: string,
  currencies: CurrencyStatement[],
): PayeeStatement {
  const { from, to } = yearBounds(year, timeZone);
  return {
    payeeId: p.id,
    displayName: p.display_name,
    year,
    timeZone,
    periodStart: from.toISOString(),
    periodEnd: to.toISOString(),
    // What Stripe holds for the connected account (the country it was opened in, the business type the
    // payee gave during onboarding); the payee record's country before there is an account.
    taxIdentity: {
      country: p.account_country ?? p.country,
      businessType: p.business_type,
      stripeAccountId: p.stripe_account_id,
    },
    currencies,
  };
}

/** One payee's statement for a year (a currency with no movement is left out). */
export async function payeeStatement(
  db: Db,
  input: { payeeId: string; year: number; timeZone: string },
): Promise<PayeeStatement> {
  const [payee] = await queryRows<PayeeRow>(db, payeeRowsSql(sql`where p.id = ${input.payeeId}`));
  if (!payee) throw notFound("payee");
  const byPayee = await aggregate(db, sql`${input.payeeId}::uuid`, input.year, input.timeZone);
  return statementOf(payee, input.year, input.timeZone, byPayee.get(payee.id) ?? []);
}

export type StatementTransaction = {
  transactionId: string;
  effectiveAt: string;
  kind: string;
  description: string;
  currency: string;
  amountCents: number;
};

/**
 * The drill-down: the ledger transactions behind one total (payee, year, category, currency), oldest
 * first, each with its amount in that category. They add up to the total.
 */
export async function statementTransactions(
  db: Db,
  input: {
    payeeId: string;
    year: number;
    timeZone: string;
    category: StatementCategory;
    currency?: string;
    limit?: number;
  },
): Promise<{ transactions: StatementTransaction[]; truncated: boolean }> {
  const { from, to } = yearBounds(input.year, input.timeZone);
  const limit = Math.min(input.limit ?? 5000, 20_000);
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`select id, kind, description, effective_at, currency, amount
        from (${categorisedSql({ payeeIds: sql`${input.payeeId}::uuid`, from, to, timeZone: input.timeZone })}) x
        where category = ${input.category} ${input.currency ? sql`and currency = ${input.currency}` : sql``}
        order by effective_at, id limit ${limit + 1}`,
  );
  return {
    transactions: rows.slice(0, limit).map((r) => ({
      transactionId: String(r.id),
      effectiveAt: new Date(r.effective_at as string).toISOString(),
      kind: String(r.kind),
      description: String(r.description),
      currency: String(r.currency),
      amountCents: toCents(r.amount),
    })),
    truncated: rows.length > limit,
  };
}

/**
 * Every payee's statement for a year, a batch of payees at a time in id order (keyset), each batch
 * read in a read-only transaction: memory stays at one batch whatever the number of payees, and
 * Postgres refuses any write. Payees with no movement in the year are left out.
 */
export async function* allStatements(
  db: Db,
  input: { year: number; timeZone: string; batchSize?: number },
): AsyncGenerator<PayeeStatement> {
  const batchSize = input.batchSize ?? 500;
  let after = "00000000-0000-0000-0000-000000000000";
  for (;;) {
    const batch = await db.transaction(async (tx) => {
      await tx.execute(sql`set transaction read only`);
      const payees = await queryRows<PayeeRow>(
        tx,
        sql`${payeeRowsSql(sql`where p.id > ${after}::uuid`)} order by p.id limit ${batchSize}`,
      );
      if (payees.length === 0) return { payees, byPayee: new Map<string, CurrencyStatement[]>() };
      const ids = JSON.stringify(payees.map((p) => p.id));
      const byPayee = await aggregate(
        tx,
        sql`select (jsonb_array_elements_text(${ids}::jsonb))::uuid`,
        input.year,
        input.timeZone,
      );
      return { payees, byPayee };
    });
    for (const p of batch.payees) {
      const currencies = batch.byPayee.get(p.id);
      if (currencies?.length) yield statementOf(p, input.year, input.timeZone, currencies);
    }
    if (batch.payees.length < batchSize) return;
    after = batch.payees.at(-1)!.id;
  }
}

/** The CSV columns of the export, one row per payee and currency. */
export const CSV_COLUMNS = [
  "payee_id",
  "display_name",
  "country",
  "business_type",
  "stripe_account_id",
  "year",
  "currency",
  ...STATEMENT_CATEGORIES.map((c) => `${c}_cents`),
  ...STATEMENT_CATEGORIES.map((c) => `${c}_transactions`),
  ...["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"].map(
    (m) => `paid_out_${m}_cents`,
  ),
] as const;

/** A statement as CSV records (one per currency), in CSV_COLUMNS order. */
export function csvRecords(s: PayeeStatement): (string | number)[][] {
  return s.currencies.map((c) => [
    s.payeeId,
    s.displayName,
    s.taxIdentity.country,
    s.taxIdentity.businessType ?? "",
    s.taxIdentity.stripeAccountId ?? "",
    s.year,
    c.currency,
    ...STATEMENT_CATEGORIES.map((k) => c.totals[k]),
    ...STATEMENT_CATEGORIES.map((k) => c.transactionCounts[k]),
    ...c.paidOutByMonth,
  ]);
}
