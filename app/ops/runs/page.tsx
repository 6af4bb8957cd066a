import type { Metadata } from "next";
import { LiveRefresh } from "@/app/_components/live-refresh";
import { Pager } from "@/app/_components/pager";
import { ErrorState, Flash } from "@/app/_components/states";
import { getDb } from "@/db/client";
import { requirePageUser } from "@/lib/auth/session";
import { isRunLive } from "@/lib/dashboard/ops";
import { section } from "@/lib/dashboard/section";
import { listRuns } from "@/lib/payouts/queries";
import { RunsTable } from "../runs-table";

export const metadata: Metadata = { title: "Payout runs" };
export const dynamic = "force-dynamic";

export default async function RunsPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  // Layouts are not re-run on client navigations, so each page checks the role itself.
  await requirePageUser(["platform_admin", "finance"], "/ops/runs");
  const params = await searchParams;
  // A cursor listRuns did not hand out is refused (db/paging.ts): the section says so.
  const cursor = params.cursor || undefined;
  const db = await getDb();
  const runs = await section("runs", () => listRuns(db, { limit: 25, cursor }));
  return (
    <>
      <h1>Payout runs</h1>
      <Flash notice={params.notice} error={params.error} />
      {runs.ok ? (
        <>
          <LiveRefresh active={runs.data.runs.some((r) => isRunLive(r.status))} intervalMs={3000} />
          <RunsTable runs={runs.data.runs} caption="Payout runs, newest first" />
          <Pager basePath="/ops/runs" params={{}} cursorParam="cursor" current={cursor} next={runs.data.nextCursor} label="Runs" />
        </>
      ) : (
        <ErrorState title="Runs could not be listed." error={runs.error} hint="Check /internal/payouts/health." />
      )}
    </>
  );
}
