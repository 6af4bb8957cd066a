import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { Money } from "@/app/_components/money";
import { EmptyState, ErrorState } from "@/app/_components/states";
import { getDb } from "@/db/client";
import { requirePageUser } from "@/lib/auth/session";
import { formatDate } from "@/lib/dashboard/format";
import { section } from "@/lib/dashboard/section";
import { getEnv } from "@/lib/env";
import { statementYear } from "@/lib/schemas/statements";
import { CATEGORY_TEXT, payeeStatement, STATEMENT_CATEGORIES } from "@/lib/statements/annual";
import { PrintButton } from "./print-button";

export const metadata: Metadata = { title: "Annual statement" };
export const dynamic = "force-dynamic";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const BUSINESS_TYPE: Record<string, string> = {
  individual: "Individual",
  company: "Company",
  non_profit: "Non-profit",
  government_entity: "Government entity",
};

/** The payee's annual statement, laid out to print (print CSS in globals.css: no navigation, no buttons). */
export default async function StatementPage({ params }: { params: Promise<{ year: string }> }) {
  const { year: yearText } = await params;
  const user = await requirePageUser(["payee"], `/dashboard/statements/${yearText}`);
  const parsed = statementYear.safeParse(yearText);
  if (!parsed.success) notFound();
  const year = parsed.data;
  if (!user.payeeId) {
    return (
      <main id="main">
        <h1>Annual statement {year}</h1>
        <p className="error" role="alert">
          Your sign-in is not linked to a payee yet.
        </p>
      </main>
    );
  }
  const env = getEnv();
  const payeeId = user.payeeId;
  const read = await section("statement", async () =>
    payeeStatement(await getDb(), { payeeId, year, timeZone: env.PAYOUT_TIMEZONE }),
  );
  if (!read.ok)
    return (
      <ErrorState
        title="Your statement could not be read."
        error={read.error}
        hint="Reload the page in a minute."
      />
    );
  const s = read.data;
  const lastDay = new Date(Date.parse(s.periodEnd) - 1);

  return (
    <main id="main" className="statement">
      <p className="no-print">
        <Link href="/dashboard">← My payouts</Link> ·{" "}
        <Link href={`/dashboard/statements/${year - 1}`}>{year - 1}</Link>
        {year < new Date().getUTCFullYear() ? (
          <>
            {" "}
            · <Link href={`/dashboard/statements/${year + 1}`}>{year + 1}</Link>
          </>
        ) : null}
      </p>
      <h1>Annual statement {year}</h1>
      <dl className="facts" data-testid="statement-identity">
        <dt>Payee</dt>
        <dd>{s.displayName}</dd>
        <dt>Period</dt>
        <dd>
          {formatDate(s.periodStart, s.timeZone)} to {formatDate(lastDay, s.timeZone)} ({s.timeZone})
        </dd>
        <dt>Country</dt>
        <dd>{s.taxIdentity.country}</dd>
        <dt>Business type</dt>
        <dd>
          {s.taxIdentity.businessType
            ? (BUSINESS_TYPE[s.taxIdentity.businessType] ?? s.taxIdentity.businessType)
            : "Not given yet"}
        </dd>
        <dt>Stripe account</dt>
        <dd>{s.taxIdentity.stripeAccountId ?? "—"}</dd>
      </dl>
      <PrintButton />
      {s.currencies.length === 0 ? (
        <EmptyState title={`No money moved in ${year}`}>
          Nothing was earned, taken back or paid out to you this year.
        </EmptyState>
      ) : (
        s.currencies.map((c) => (
          <section key={c.currency} aria-labelledby={`totals-${c.currency}`} className="statement-currency">
            <h2 id={`totals-${c.currency}`}>{c.currency.toUpperCase()}</h2>
            <table data-testid={`statement-totals-${c.currency}`}>
              <caption className="sr-only">
                Totals for {year} in {c.currency.toUpperCase()}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Item</th>
                  <th scope="col" className="num">
                    Amount
                  </th>
                  <th scope="col" className="num">
                    Transactions
                  </th>
                </tr>
              </thead>
              <tbody>
                {STATEMENT_CATEGORIES.map((k) => (
                  <tr key={k} data-testid={`statement-${k}`}>
                    <th scope="row">{CATEGORY_TEXT[k]}</th>
                    <td className="num">
                      <Money cents={c.totals[k]} currency={c.currency} />
                    </td>
                    <td className="num">{c.transactionCounts[k]}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h3>Paid out by month</h3>
            <table data-testid={`statement-months-${c.currency}`}>
              <caption className="sr-only">Paid out to your bank per month of {year}</caption>
              <thead>
                <tr>
                  {MONTHS.map((m) => (
                    <th key={m} scope="col" className="num">
                      {m}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                <tr>
                  {c.paidOutByMonth.map((cents, i) => (
                    <td key={MONTHS[i]} className="num">
                      <Money cents={cents} currency={c.currency} />
                    </td>
                  ))}
                </tr>
              </tbody>
            </table>
          </section>
        ))
      )}
      <p className="muted small">
        Every amount is the sum of ledger transactions effective in {year}; the platform can list the
        transactions behind any line. Amounts taken back (refunds, disputes) and fees are shown as positive
        numbers. This statement is not tax advice.
      </p>
    </main>
  );
}
