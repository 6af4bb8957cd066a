import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { accountBalancesSql } from "../ledger/balances";
import { toCents, toDecimalString } from "../money";
import type { TrialBalance } from "../schemas/accounting";
import { type ChartOfAccounts, glAccountOf, ledgerAccountKey } from "../chart-of-accounts";
import { endOfDay } from "./period";

// The trial balance: every ledger account's balance at a moment (lib/ledger/balances.ts: the kept
// balance less what was effective later), added up per GL account of the chart and currency. A
// balance below zero is a debit balance, above zero a credit one (the ledger's sign); the ledger
// balances per currency, so each currency's debits equal its credits.

export type TrialBalanceInput = {
  /** A day (the close of it in `timeZone`), a moment (included), or now. */
  at?: string;
  currency?: string;
  timeZone: string;
  chart: ChartOfAccounts;
};

/** The moment a trial balance is taken at: a date-time as given, a date's close, or now. */
export function trialBalanceMoment(
  at: string | undefined,
  timeZone: string,
): Date | { before: Date } | undefined {
  if (at === undefined) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(at)) return { before: endOfDay(at, timeZone) };
  return new Date(at);
}

export async function trialBalance(db: Db, input: TrialBalanceInput): Promise<TrialBalance> {
  const moment = trialBalanceMoment(input.at, input.timeZone);
  const now = new Date();
  const accounts = input.currency
    ? sql`select id from ledger_accounts where currency = ${input.currency}`
    : sql`select id from ledger_accounts`;
  const rows = await queryRows<{
    owner_type: "payee" | "platform";
    kind: string;
    location: string;
    currency: string;
    balance: string | number;
  }>(
    db,
    sql`select a.owner_type, a.kind, a.location, a.currency, sum(b.balance) as balance
        from ledger_accounts a join (${accountBalancesSql(accounts, moment)}) b on b.account_id = a.id
        group by a.owner_type, a.kind, a.location, a.currency
        order by a.currency`,
  );
  const byCurrency = new Map<
    string,
    Map<string, { name: string; ledgerAccounts: Set<string>; balance: number }>
  >();
  for (const r of rows) {
    const gl = glAccountOf(input.chart, r.owner_type, r.kind, r.location);
    const lines = byCurrency.get(r.currency) ?? new Map();
    byCurrency.set(r.currency, lines);
    const line = lines.get(gl.code) ?? { name: gl.name, ledgerAccounts: new Set<string>(), balance: 0 };
    line.ledgerAccounts.add(ledgerAccountKey(r.owner_type, r.kind, r.location));
    line.balance += toCents(r.balance);
    lines.set(gl.code, line);
  }
  const at = moment === undefined ? now : moment instanceof Date ? moment : moment.before;
  return {
    at: at.toISOString(),
    timeZone: input.timeZone,
    currencies: [...byCurrency].map(([currency, lines]) => {
      const out = [...lines]
        .sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }))
        .map(([code, line]) => {
          const debitCents = line.balance < 0 ? -line.balance : 0;
          const creditCents = line.balance > 0 ? line.balance : 0;
          return {
            glCode: code,
            glName: line.name,
            ledgerAccounts: [...line.ledgerAccounts].sort(),
            debitCents,
            creditCents,
            debit: toDecimalString(debitCents, currency),
            credit: toDecimalString(creditCents, currency),
          };
        });
      const totalDebitCents = out.reduce((s, l) => s + l.debitCents, 0);
      const totalCreditCents = out.reduce((s, l) => s + l.creditCents, 0);
      return {
        currency: currency.toUpperCase(),
        lines: out,
        totalDebitCents,
        totalCreditCents,
        totalDebit: toDecimalString(totalDebitCents, currency),
        totalCredit: toDecimalString(totalCreditCents, currency),
        balanced: totalDebitCents === totalCreditCents,
      };
    }),
  };
}
