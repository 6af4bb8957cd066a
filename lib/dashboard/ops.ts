import type { Db } from "../../db/client";
import type { Env } from "../env";
import { runTotals } from "../payouts/finish";
import { listStuckRuns } from "../payouts/health";
import { readPauseFlag } from "../payouts/pause";
import { listRuns, payoutKpis } from "../payouts/queries";
import { section } from "./section";

// Read models of the ops console pages, composed from lib/payouts (the same functions as the API).

const LIVE = new Set(["planning", "executing"]);
export const isRunLive = (status: unknown) => LIVE.has(String(status));

export async function loadOpsOverview(db: Db, env: Env) {
  const [kpis, pause, stuckRuns, runs] = await Promise.all([
    section("kpis", () => payoutKpis(db, { days: 30 })),
    section("pause", async () => {
      const flag = await readPauseFlag(db);
      return { ...flag, byConfig: env.PAYOUTS_PAUSED, paused: env.PAYOUTS_PAUSED || flag.paused };
    }),
    section("stuckRuns", () => listStuckRuns(db)),
    section("runs", () => listRuns(db, { limit: 10 })),
  ]);
  // Outcome counts of the recent real runs, oldest first, for the chart.
  const runOutcomes = await section("runOutcomes", async () => {
    const real = runs.ok ? runs.data.runs.filter((r) => !r.dryRun) : [];
    // Only the counts: runTotals is one grouped query per run (the status body adds two more).
    const totals = await Promise.all(real.map((r) => runTotals(db, String(r.runId))));
    return real
      .map((r, i) => {
        const counts = totals[i]!.counts;
        return {
          cycle: String(r.cycleKey),
          paid: counts.paid ?? 0,
          inTransit: (counts.in_transit ?? 0) + (counts.processing ?? 0) + (counts.planned ?? 0),
          failed: counts.failed ?? 0,
          skipped: counts.skipped ?? 0,
        };
      })
      .reverse();
  });
  const live = runs.ok && runs.data.runs.some((r) => isRunLive(r.status));
  return { kpis, pause, stuckRuns, runs, runOutcomes, live };
}

export type OpsOverview = Awaited<ReturnType<typeof loadOpsOverview>>;
