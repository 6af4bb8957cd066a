import type { Db } from "../../db/client";
import {
  payeeStatement,
  STATEMENT_CATEGORIES,
  type StatementCategory,
  statementTransactions,
} from "./annual";

/**
 * The statement endpoint's answer: the statement, each total with the link that lists its ledger
 * transactions; or, with `category`, that list (the drill-down), which adds up to the total.
 */
export async function statementRequest(
  db: Db,
  input: {
    payeeId: string;
    year: number;
    timeZone: string;
    category?: StatementCategory;
    currency?: string;
    limit?: number;
    basePath: string;
  },
) {
  const statement = await payeeStatement(db, input);
  if (input.category) {
    const { transactions, truncated } = await statementTransactions(db, {
      ...input,
      category: input.category,
    });
    return {
      payeeId: input.payeeId,
      year: input.year,
      category: input.category,
      currency: input.currency ?? null,
      totalCents: transactions.reduce((sum, t) => sum + t.amountCents, 0),
      truncated,
      transactions,
    };
  }
  return {
    ...statement,
    currencies: statement.currencies.map((c) => ({
      ...c,
      drillDown: Object.fromEntries(
        STATEMENT_CATEGORIES.map((k) => [k, `${input.basePath}?category=${k}&currency=${c.currency}`]),
      ) as Record<StatementCategory, string>,
    })),
  };
}
