import type { Metadata } from "next";
import Link from "next/link";
import { LiveRefresh } from "@/app/_components/live-refresh";
import { ErrorState, Flash } from "@/app/_components/states";
import { getDb } from "@/db/client";
import { requirePageUser } from "@/lib/auth/session";
import { formatDateTime } from "@/lib/dashboard/format";
import { loadOpsOverview } from "@/lib/dashboard/ops";
import { getEnv } from "@/lib/env";
import { PausePanel, TriggerRunPanel } from "./controls";
import { KpiPanel } from "./kpis";
import { RunsTable } from "./runs-table";

export const metadata: Metadata = { title: "Ops console" };
export const dynamic = "force-dynamic";

export default async function OpsOverviewPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const params = await searchParams;
  const user = await requirePageUser(["platform_admin", "finance"], "/ops");
  const canAct = user.role === "platform_admin";
  const data = await loadOpsOverview(await getDb(), getEnv());
  const stuck = data.stuckRuns.ok ? data.stuckRuns.data : [];

  return (
    <>
      <h1>Ops console</h1>
      <Flash notice={params.notice} error={params.error} />
      <LiveRefresh active={data.live} intervalMs={3000} />
      {stuck.length > 0 ? (
        <div className="error" role="alert" data-testid="stuck-runs">
          <strong>
            {stuck.length} stuck run{stuck.length > 1 ? "s" : ""}
          </strong>{" "}
          (no heartbeat for 15 minutes). Open it and start the same cycle again to resume it:
          <ul>
            {stuck.map((r) => (
              <li key={r.id}>
                <Link href={`/ops/runs/${r.id}`}>{r.cycle_key}</Link>, last heartbeat {formatDateTime(r.heartbeat_at)}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {!data.stuckRuns.ok ? <ErrorState title="Stuck runs could not be read." error={data.stuckRuns.error} /> : null}
      <div className="grid-2">
        <PausePanel pause={data.pause} canAct={canAct} />
        {canAct ? <TriggerRunPanel /> : null}
      </div>
      <KpiPanel kpis={data.kpis} runOutcomes={data.runOutcomes} />
      <section aria-labelledby="recent-runs-heading">
        <h2 id="recent-runs-heading">Recent runs</h2>
        {data.runs.ok ? (
          <RunsTable runs={data.runs.data.runs} caption="The ten most recent payout runs" />
        ) : (
          <ErrorState title="Runs could not be listed." error={data.runs.error} />
        )}
        <p>
          <Link href="/ops/runs">All runs →</Link>
        </p>
      </section>
    </>
  );
}
