import { DataTable } from "@/app/_components/data-table";
import { Money } from "@/app/_components/money";
import { EmptyState } from "@/app/_components/states";
import { SubmitButton } from "@/app/_components/submit-button";
import { payoutFailureText, skipReasonText } from "@/lib/dashboard/failure-reasons";
import type { getRunStatus } from "@/lib/payouts/queries";
import { retryPayoutAction } from "../../actions";

type Problem = NonNullable<Awaited<ReturnType<typeof getRunStatus>>>["failed"][number];

/**
 * Failed or skipped payouts of a run, with a retry button per failure for admins, or the reason a
 * retry cannot work (`retryRefusals`, by payout id).
 */
export function ProblemsTable({
  title,
  rows,
  runId,
  canRetry,
  retryRefusals,
  empty,
}: {
  title: string;
  rows: Problem[];
  runId: string;
  canRetry: boolean;
  retryRefusals?: ReadonlyMap<string, string>;
  empty: string;
}) {
  const headingId = title.toLowerCase().replaceAll(" ", "-");
  const isFailure = title.startsWith("Failed");
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId}>
        {title} ({rows.length})
      </h2>
      {rows.length === 0 ? (
        <EmptyState title={empty} />
      ) : (
        <DataTable
          testId={isFailure ? "failed-payouts" : "skipped-payouts"}
          rows={rows}
          rowKey={(p) => String(p.payoutId)}
          columns={[
            { label: "Payee", cell: (p) => String(p.payeeName) },
            { label: "Amount", num: true, cell: (p) => <Money cents={p.amountCents} currency={String(p.currency)} /> },
            { label: "Code", cell: (p) => <code>{String(p.code ?? "—")}</code> },
            {
              label: "What it means",
              cell: (p) =>
                isFailure
                  ? payoutFailureText(p.code as string | null, p.reason as string | null)
                  : skipReasonText(p.code as string | null),
            },
            canRetry && {
              label: "Action",
              cell: (p) =>
                retryRefusals?.has(String(p.payoutId)) ? (
                  <span className="muted small" data-testid="retry-refused">
                    {retryRefusals.get(String(p.payoutId))}
                  </span>
                ) : (
                  <form action={retryPayoutAction}>
                    <input type="hidden" name="payoutId" value={String(p.payoutId)} />
                    <input type="hidden" name="runId" value={runId} />
                    <SubmitButton className="small" pendingText="Retrying…">
                      Retry<span className="sr-only"> payout to {String(p.payeeName)}</span>
                    </SubmitButton>
                  </form>
                ),
            },
          ]}
        />
      )}
    </section>
  );
}
