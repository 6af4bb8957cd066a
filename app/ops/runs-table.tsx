import Link from "next/link";
import { EmptyState } from "@/app/_components/states";
import { StatusBadge } from "@/app/_components/status-badge";
import { formatDateTime } from "@/lib/dashboard/format";
import type { listRuns } from "@/lib/payouts/queries";

type RunRow = Awaited<ReturnType<typeof listRuns>>["runs"][number];

export function RunsTable({ runs, caption }: { runs: RunRow[]; caption: string }) {
  if (runs.length === 0) {
    return (
      <EmptyState title="No payout runs yet">
        Runs start by themselves on the 1st and 15th at 06:00; an admin can start one with “Start a run”.
      </EmptyState>
    );
  }
  return (
    <div className="table-wrap">
      <table className="responsive" data-testid="runs-table">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Cycle</th>
            <th scope="col">Status</th>
            <th scope="col">Trigger</th>
            <th scope="col">Started</th>
            <th scope="col">Finished</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={String(r.runId)}>
              <td data-label="Cycle">
                <Link href={`/ops/runs/${String(r.runId)}`}>{String(r.cycleKey)}</Link>
                {r.dryRun ? <span className="badge">dry run</span> : null}
              </td>
              <td data-label="Status">
                <StatusBadge status={String(r.status)} />
              </td>
              <td data-label="Trigger">{String(r.trigger)}</td>
              <td data-label="Started">{formatDateTime(r.startedAt)}</td>
              <td data-label="Finished">{formatDateTime(r.finishedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
