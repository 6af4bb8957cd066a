import { describe, expect, it } from "vitest";
import { replayCommand, runFaultSuite } from "@/lib/faults/runner";
import { TEST_DATABASE_URL } from "../support/pg-urls";

// A fixed handful of fault-suite schedules on every push (lib/faults; docs/ARCHITECTURE.md "Fault
// suite"): abandoned invocations, lost and duplicated continuations, Stripe errors and drops, late and
// duplicated webhooks, concurrent triggers. `npm run test:faults -- --schedules 500` runs many more,
// including the big runs this set leaves out for time.
const SEEDS = [2, 11, 20, 22, 23];

describe("fault suite", () => {
  it("fixed schedules keep every invariant", { timeout: 150_000 }, async () => {
    const outcomes = await runFaultSuite({
      seeds: SEEDS,
      db: "postgres",
      serverUrl: TEST_DATABASE_URL,
      parallel: 1,
      timeoutMs: 60_000,
      logDir: ".data/faults",
    });
    const failures = outcomes
      .filter((o) => !o.ok)
      .map((o) => `seed ${o.seed}: ${[...o.violations, o.harnessError ?? ""].join("; ")} (log ${o.logFile}; replay: ${replayCommand(o.seed, "postgres")})`);
    expect(failures).toEqual([]);
    expect(outcomes.map((o) => o.seed)).toEqual(SEEDS);
    // The set must really meet faults, not pass for want of them.
    expect(outcomes.reduce((n, o) => n + (o.stats?.abandoned ?? 0), 0)).toBeGreaterThan(0);
    expect(outcomes.reduce((n, o) => n + (o.stats?.stripeFaults ?? 0), 0)).toBeGreaterThan(0);
  });
});
