import { Money } from "@/app/_components/money";
import { EmptyState } from "@/app/_components/states";
import { SubmitButton } from "@/app/_components/submit-button";
import { payoutFailureText, skipReasonText } from "@/lib/dashboard/failure-reasons";
import type { getRunStatus } from "@/lib/payouts/queries";
import { retryPayoutAction } from "../../actions";

type Problem = NonNullable<Awaited<ReturnType<typeof getRunStatus>>>["failed"][number];

/** Failed or skipped payouts of a run, with a retry button per failure for admins. */
export function ProblemsTable({
  title,
  rows,
  runId,
  canRetry,
  empty,
}: {
  title: string;
  rows: Problem[];
  runId: string;
  canRetry: boolean;
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
        <div className="table-wrap">
          <table className="responsive" data-testid={isFailure ? "failed-payouts" : "skipped-payouts"}>
            <thead>
              <tr>
                <th scope="col">Payee</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col">Code</th>
                <th scope="col">What it means</th>
                {canRetry ? <th scope="col">Action</th> : null}
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr key={String(p.payoutId)}>
                  <td data-label="Payee">{String(p.payeeName)}</td>
                  <td data-label="Amount" className="num">
                    <Money cents={p.amountCents} currency={String(p.currency)} />
                  </td>
                  <td data-label="Code">
                    <code>{String(p.code ?? "—")}</code>
                  </td>
                  <td data-label="What it means">
                    {isFailure
                      ? payoutFailureText(p.code as string | null, p.reason as string | null)
                      : skipReasonText(p.code as string | null)}
                  </td>
                  {canRetry ? (
                    <td data-label="Action">
                      <form action={retryPayoutAction}>
                        <input type="hidden" name="payoutId" value={String(p.payoutId)} />
                        <input type="hidden" name="runId" value={runId} />
                        <SubmitButton className="small" pendingText="Retrying…">
                          Retry<span className="sr-only"> payout to {String(p.payeeName)}</span>
                        </SubmitButton>
                      </form>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
