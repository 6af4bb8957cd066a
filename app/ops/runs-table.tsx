import Link from "next/link";
import { DataTable } from "@/app/_components/data-table";
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
    <DataTable
      testId="runs-table"
      caption={caption}
      rows={runs}
      rowKey={(r) => String(r.runId)}
      columns={[
        {
          label: "Cycle",
          cell: (r) => (
            <>
              <Link href={`/ops/runs/${String(r.runId)}`}>{String(r.cycleKey)}</Link>
              {r.dryRun ? <span className="badge">dry run</span> : null}
            </>
          ),
        },
        { label: "Status", cell: (r) => <StatusBadge status={String(r.status)} /> },
        { label: "Trigger", cell: (r) => String(r.trigger) },
        { label: "Started", cell: (r) => formatDateTime(r.startedAt) },
        { label: "Finished", cell: (r) => formatDateTime(r.finishedAt) },
      ]}
    />
  );
}
