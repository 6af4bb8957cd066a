import type { Metadata } from "next";
import Link from "next/link";
import { DataTable } from "@/app/_components/data-table";
import { Money } from "@/app/_components/money";
import { EmptyState, ErrorState, Flash } from "@/app/_components/states";
import { getDb } from "@/db/client";
import { requirePageUser } from "@/lib/auth/session";
import { formatDateTime } from "@/lib/dashboard/format";
import { section } from "@/lib/dashboard/section";
import { APPROVAL_SETTINGS_COOLDOWN_DAYS, listAwaitingApproval } from "@/lib/payouts/approval";
import { decidePayoutAction } from "../actions";
import { ReasonActionForm } from "../reason-action-form";

export const metadata: Metadata = { title: "Payout approvals" };
export const dynamic = "force-dynamic";

export default async function ApprovalsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const params = await searchParams;
  const user = await requirePageUser(["platform_admin", "finance"], "/ops/approvals");
  const db = await getDb();
  const list = await section("approvals", () => listAwaitingApproval(db, { actor: user.actor }));

  return (
    <>
      <h1>Payout approvals</h1>
      <p className="muted">
        Payouts above the approval threshold wait here, their money still in the payee&apos;s available
        balance. A platform admin or finance user approves (the run then sends it) or rejects, with a reason.
        Nobody decides on their own payout, or on one for a payee whose payout or bank settings they changed
        in the last {APPROVAL_SETTINGS_COOLDOWN_DAYS} days. Not decided when the cycle closes: released to the
        payee&apos;s next cycle.
      </p>
      <Flash notice={params.notice} error={params.error} />
      {!list.ok ? (
        <ErrorState
          title="Payouts awaiting approval could not be read."
          error={list.error}
          hint="Reload in a minute."
        />
      ) : list.data.length === 0 ? (
        <EmptyState title="Nothing awaits approval" />
      ) : (
        <DataTable
          testId="approvals-table"
          caption="Payouts awaiting approval, the cycle closing first at the top"
          rows={list.data}
          rowKey={(p) => p.payoutId}
          columns={[
            { label: "Payee", cell: (p) => p.payeeName },
            {
              label: "Amount",
              num: true,
              cell: (p) => <Money cents={p.amountCents} currency={p.currency} />,
            },
            {
              label: "Run",
              cell: (p) => (p.runId ? <Link href={`/ops/runs/${p.runId}`}>{p.cycleKey ?? "run"}</Link> : "—"),
            },
            { label: "Cycle closes", cell: (p) => formatDateTime(p.closesAt) },
            {
              label: "Decision",
              cell: (p) =>
                p.refusal ? (
                  <span className="muted small" data-testid="approval-refused">
                    {p.refusal}
                  </span>
                ) : (
                  <ReasonActionForm
                    action={decidePayoutAction}
                    idName="payoutId"
                    id={p.payoutId}
                    choiceName="decision"
                    choices={[
                      { value: "approve", label: "Approve" },
                      { value: "reject", label: "Reject", secondary: true },
                    ]}
                  />
                ),
            },
          ]}
        />
      )}
    </>
  );
}
