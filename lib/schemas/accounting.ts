import { z } from "zod";
import { isoDate, isoDateTime } from "./common";

// The accounting export's queries (GET /api/v1/accounting/journal.csv, /trial-balance, and
// `npm run accounting:export`). docs/ACCOUNTING.md says what each field means.

/** The longest journal the API streams in one request; the CLI has no limit. */
export const JOURNAL_MAX_DAYS = 366;

const ISO_CURRENCIES: ReadonlySet<string> = new Set(
  Intl.supportedValuesOf("currency").map((c) => c.toLowerCase()),
);

/** A currency ISO 4217 knows, lower-cased as the ledger stores it ("USD" and "usd" alike). */
export const knownCurrency = z
  .string()
  .regex(/^[a-zA-Z]{3}$/, "must be a three-letter ISO 4217 code")
  .transform((c) => c.toLowerCase())
  .refine((c) => ISO_CURRENCIES.has(c), { message: "is not an ISO 4217 currency" });

/** An empty form field ("All currencies") is no filter. */
const optionalCurrency = z.preprocess((v) => (v === "" ? undefined : v), knownCurrency.optional());

const DAY_MS = 86_400_000;
const daysIn = (from: string, to: string) =>
  (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1;

function journalRange(maxDays: number | null) {
  return z.object({ from: isoDate, to: isoDate, currency: optionalCurrency }).superRefine((q, ctx) => {
    if (q.from > q.to) {
      ctx.addIssue({ code: "custom", path: ["from"], message: `must not be after to (${q.from} > ${q.to})` });
    } else if (maxDays !== null && daysIn(q.from, q.to) > maxDays) {
      ctx.addIssue({
        code: "custom",
        path: ["to"],
        message: `the range is ${daysIn(q.from, q.to)} days; at most ${maxDays} per request (npm run accounting:export has no limit)`,
      });
    }
  });
}

/** from and to are days in ACCOUNTING_TIMEZONE, both included. */
export const journalQuery = journalRange(JOURNAL_MAX_DAYS);
export const journalExportArgs = journalRange(null);
export type JournalQuery = z.output<typeof journalQuery>;

/**
 * `at`: a date is the close of that day in ACCOUNTING_TIMEZONE (everything effective before the
 * next day starts); a date-time is that moment, included. Absent: now.
 */
export const trialBalanceQuery = z.object({
  at: z.union([isoDate, isoDateTime]).optional(),
  currency: optionalCurrency,
});
export type TrialBalanceQuery = z.output<typeof trialBalanceQuery>;

const trialBalanceLine = z.object({
  glCode: z.string(),
  glName: z.string(),
  /** The ledger accounts booked to this GL account (payee.available.connected, platform.fees, ...). */
  ledgerAccounts: z.array(z.string()),
  debitCents: z.number().int(),
  creditCents: z.number().int(),
  debit: z.string(),
  credit: z.string(),
});

export const trialBalanceResponse = z.object({
  at: z.string(),
  timeZone: z.string(),
  currencies: z.array(
    z.object({
      currency: z.string(),
      lines: z.array(trialBalanceLine),
      totalDebitCents: z.number().int(),
      totalCreditCents: z.number().int(),
      totalDebit: z.string(),
      totalCredit: z.string(),
      balanced: z.boolean(),
    }),
  ),
});
export type TrialBalance = z.output<typeof trialBalanceResponse>;
