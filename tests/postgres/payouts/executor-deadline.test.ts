import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { systemActor } from "@/lib/actor";
import { getEnv } from "@/lib/env";
import { triggerPayoutRun } from "@/lib/payouts/run";
import { spawnTsx, waitForLine } from "../../support/child";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { seedPayee, useAppEnv } from "../../integration/payouts/helpers";

// A slice that starts after its deadline (a take-over slice, a slow cold start) must end at once.
// It once spun for ever on microtasks (a claim promise that finished before it was stored), which
// starves every timer and socket of the process, so the slice runs in a child process that the test
// can kill: a hang fails the test instead of freezing the suite.

let t: TestDb;
let ts: TestStripe;

beforeAll(async () => {
  t = await createTestDb();
  ts = await startTestStripe();
  useAppEnv(t.db, ts.simulator.url);
  for (let i = 0; i < 3; i++) await seedPayee(t.db, ts, { connectedCents: 2500 + i });
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

async function runSlice(runId: string, deadlineOffsetMs: number) {
  const child = spawnTsx("tests/support/execute-slice.ts", t, ts, { RUN_ID: runId, DEADLINE_OFFSET_MS: String(deadlineOffsetMs) });
  const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  try {
    const [line] = await waitForLine(child, /^\{.*\}$/m).catch(() => {
      throw new Error("the executor hung: the slice did not end within 15 s of a deadline already passed");
    });
    return JSON.parse(line) as { ms: number; result: { state: string; outcomes: Record<string, number> } };
  } finally {
    clearTimeout(killer);
  }
}

describe("executor deadline", () => {
  it("a slice whose deadline has already passed ends in well under a second and claims nothing", async () => {
    const trig = await triggerPayoutRun(t.db, getEnv(), { cycleDate: "2027-04-01", trigger: "manual", actor: systemActor("test") });
    if (trig.kind !== "run") throw new Error("no run");
    const { ms, result } = await runSlice(trig.runId, -1);
    expect(ms).toBeLessThan(500);
    expect(result.state).toBe("more");
    expect(Object.values(result.outcomes).every((n) => n === 0)).toBe(true);
    const rows = await queryRows<{ status: string; attempts: number }>(
      t.db,
      sql`select status, attempts from payouts where run_id = ${trig.runId}`,
    );
    expect(rows.map((r) => [r.status, Number(r.attempts)])).toEqual(rows.map(() => ["planned", 0]));
  }, 30_000);
});
