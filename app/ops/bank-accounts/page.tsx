import type { Metadata } from "next";
import { DataTable } from "@/app/_components/data-table";
import { EmptyState, ErrorState, Flash } from "@/app/_components/states";
import { StatusBadge } from "@/app/_components/status-badge";
import { getDb } from "@/db/client";
import { listBankAccountMatches } from "@/lib/accounts/bank-accounts";
import { requirePageUser } from "@/lib/auth/session";
import { formatDateTime } from "@/lib/dashboard/format";
import { section } from "@/lib/dashboard/section";
import { bankMatchAction } from "../actions";
import { ReasonActionForm } from "../reason-action-form";

export const metadata: Metadata = { title: "Shared bank accounts" };
export const dynamic = "force-dynamic";

export default async function BankAccountsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const params = await searchParams;
  const user = await requirePageUser(["platform_admin", "finance"], "/ops/bank-accounts");
  const canAct = user.role === "platform_admin";
  const all = params.status === "all";
  const db = await getDb();
  const list = await section("bank-matches", () => listBankAccountMatches(db, { all }));

  return (
    <>
      <h1>Shared bank accounts</h1>
      <p className="muted">
        Two payees whose Stripe accounts pay into the same bank account (the same Stripe fingerprint). Both
        payees&apos; payouts are held (duplicate bank account) until a platform admin clears the match (it is
        fine: payouts go on) or confirms it (a real duplicate: both stay held). A match nobody decided on ends
        by itself if they stop sharing it.
      </p>
      <p className="small">
        {all ? (
          <a href="/ops/bank-accounts">Show only matches holding payouts</a>
        ) : (
          <a href="/ops/bank-accounts?status=all">Show all, decided ones too</a>
        )}
      </p>
      <Flash notice={params.notice} error={params.error} />
      {!list.ok ? (
        <ErrorState title="Matches could not be read." error={list.error} hint="Reload in a minute." />
      ) : list.data.length === 0 ? (
        <EmptyState title="No payees share a bank account" />
      ) : (
        <DataTable
          testId="bank-matches-table"
          caption="Payees sharing a bank account, newest first"
          rows={list.data}
          rowKey={(m) => m.matchId}
          columns={[
            { label: "Payees", cell: (m) => m.payees.map((p) => p.name).join(" and ") },
            { label: "Bank account", cell: (m) => (m.last4 ? `••••${m.last4}` : "—") },
            { label: "Status", cell: (m) => <StatusBadge status={m.status} /> },
            { label: "Found", cell: (m) => formatDateTime(m.createdAt) },
            { label: "Decision", cell: (m) => m.decisionReason ?? "—" },
            canAct && {
              label: "Action",
              cell: (m) =>
                m.status === "open" || m.status === "confirmed" ? (
                  <ReasonActionForm
                    action={bankMatchAction}
                    idName="matchId"
                    id={m.matchId}
                    choiceName="decision"
                    choices={[
                      { value: "clear", label: "Clear (pay both)" },
                      ...(m.status === "open"
                        ? [{ value: "confirm", label: "Confirm duplicate", secondary: true }]
                        : []),
                    ]}
                  />
                ) : null,
            },
          ]}
        />
      )}
    </>
  );
}
