import type { Metadata } from "next";
import Link from "next/link";
import { Flash } from "@/app/_components/states";
import { getDb } from "@/db/client";
import { requirePageUser } from "@/lib/auth/session";
import { loadPayeeDashboard } from "@/lib/dashboard/payee";
import { getEnv } from "@/lib/env";
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
  const data = await loadPayeeDashboard(await getDb(), env, user.payeeId, {
    historyCursor: params.h,
    payoutsCursor: params.p,
  });

  return (
    <main id="main">
      <h1>My payouts</h1>
      <Flash notice={params.notice} error={params.error} />
      <BalanceCards balances={data.balances} />
      <div className="grid-2">
        <NextPayoutPanel data={data} />
        <OnboardingPanel data={data} />
      </div>
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
