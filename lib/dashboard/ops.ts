import type { Db } from "../../db/client";
import type { Env } from "../env";
import { payoutHealth } from "../payouts/health";
import { readPauseFlag } from "../payouts/pause";
import { getRunStatus, listRuns, payoutKpis } from "../payouts/queries";
import { section } from "./section";

// Read models of the ops console pages, composed from lib/payouts (the same functions as the API).

const LIVE = new Set(["planning", "executing"]);
export const isRunLive = (status: unknown) => LIVE.has(String(status));

export async function loadOpsOverview(db: Db, env: Env) {
  const [kpis, pause, health, runs] = await Promise.all([
    section("kpis", () => payoutKpis(db, { days: 30 })),
    section("pause", async () => {
      const flag = await readPauseFlag(db);
      return { ...flag, byConfig: env.PAYOUTS_PAUSED, paused: env.PAYOUTS_PAUSED || flag.paused };
    }),
    section("health", () => payoutHealth(db, env)),
    section("runs", () => listRuns(db, { limit: 10 })),
  ]);
  // Outcome counts of the recent real runs, oldest first, for the chart.
  const runOutcomes = await section("runOutcomes", async () => {
    const real = runs.ok ? runs.data.runs.filter((r) => !r.dryRun) : [];
    const statuses = await Promise.all(real.map((r) => getRunStatus(db, String(r.runId))));
    return statuses
      .filter((s) => s !== null)
      .reverse()
      .map((s) => ({
        cycle: String(s.cycleKey),
        paid: s.counts.paid ?? 0,
        inTransit: (s.counts.in_transit ?? 0) + (s.counts.processing ?? 0) + (s.counts.planned ?? 0),
        failed: s.counts.failed ?? 0,
        skipped: s.counts.skipped ?? 0,
      }));
  });
  const live = runs.ok && runs.data.runs.some((r) => isRunLive(r.status));
  return { kpis, pause, health, runs, runOutcomes, live };
}

export type OpsOverview = Awaited<ReturnType<typeof loadOpsOverview>>;
export type RunOutcome = OpsOverview["runOutcomes"] extends { ok: true; data: infer D } | { ok: false } ? D : never;
