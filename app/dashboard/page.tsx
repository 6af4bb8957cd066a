import type { Metadata } from "next";
import Link from "next/link";
import { Flash } from "@/app/_components/states";
import { getDb } from "@/db/client";
import { requirePageUser } from "@/lib/auth/session";
import { loadPayeeDashboard, type PayeeDashboard } from "@/lib/dashboard/payee";
import { section } from "@/lib/dashboard/section";
import { type Env, getEnv } from "@/lib/env";
import { quoteInstantPayout } from "@/lib/instant-payouts";
import { getStripeGateway } from "@/lib/stripe/client";
import { InstantPayoutPanel } from "./instant";
import { BalanceCards, NextPayoutPanel, OnboardingPanel } from "./sections";
import { LedgerHistoryTable, PayoutHistoryTable } from "./tables";

export const metadata: Metadata = { title: "My payouts" };
// Reads the database on every request; `next build` must not touch it.
export const dynamic = "force-dynamic";

type SearchParams = Record<string, string | undefined>;

export default async function PayeeDashboardPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  // The layout checked too, but a page render must not trust that it ran first.
  const user = await requirePageUser(["payee"], "/dashboard");
  if (!user.payeeId) {
    return (
      <main id="main">
        <h1>My payouts</h1>
        <p className="error" role="alert">
          Your sign-in ({user.email ?? user.id}) is not linked to a payee yet. Ask the marketplace to link your account.
        </p>
      </main>
    );
  }
  const env = getEnv();
  const db = await getDb();
  const data = await loadPayeeDashboard(db, env, user.payeeId, {
    historyCursor: params.h,
    payoutsCursor: params.p,
  });
  // The instant payout quote reads Stripe: only when the payee asks for it.
  const payeeId = user.payeeId;
  const instantQuote =
    params.instant === "quote"
      ? await section("instant-quote", () =>
          quoteInstantPayout(db, getStripeGateway(), env, { payeeId, currency: instantCurrency(data, env) }),
        )
      : null;

  return (
    <main id="main">
      <h1>My payouts</h1>
      <Flash notice={params.notice} error={params.error} />
      <BalanceCards balances={data.balances} />
      <div className="grid-2">
        <NextPayoutPanel data={data} />
        <OnboardingPanel data={data} />
      </div>
      {data.onboarding === "complete" ? <InstantPayoutPanel quote={instantQuote} /> : null}
      <PayoutHistoryTable payouts={data.payouts} params={params} timeZone={data.timeZone} />
      <LedgerHistoryTable history={data.history} params={params} timeZone={data.timeZone} />
      <p data-testid="statement-links">
        Annual statements:{" "}
        {[0, 1].map((back) => {
          const year = new Date().getUTCFullYear() - back;
          return (
            <span key={year}>
              {back > 0 ? " · " : null}
              <Link href={`/dashboard/statements/${year}`}>{year}</Link>
            </span>
          );
        })}
      </p>
    </main>
  );
}

/** The currency an instant payout is quoted in: the one with the most available, else the platform's. */
function instantCurrency(data: PayeeDashboard, env: Env): string {
  if (!data.balances.ok) return env.PLATFORM_DEFAULT_CURRENCY;
  const best = Object.entries(data.balances.data).sort((a, b) => b[1].available - a[1].available)[0];
  return best && best[1].available > 0 ? best[0] : env.PLATFORM_DEFAULT_CURRENCY;
}
