import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { systemActor } from "@/lib/actor";
import { getEnv } from "@/lib/env";
import { resumePayoutRun } from "@/lib/payouts/continue";
import { setPayoutsPaused } from "@/lib/payouts/pause";
import { triggerPayoutRun } from "@/lib/payouts/run";
import { resumeStalledRuns } from "@/lib/payouts/watchdog";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { payoutRows, seedPayee, useAppEnv } from "./helpers";

// The watchdog's rules, in-process (tests/postgres/payouts/watchdog.test.ts kills a real process).

let t: TestDb;
let ts: TestStripe;
const actor = systemActor("watchdog-test");

beforeAll(async () => {
  t = await createTestDb();
  ts = await startTestStripe();
  // a 30 s maxDuration: slices of 10 s, so a heartbeat 11 s old is a dead run
  useAppEnv(t.db, ts.simulator.url, { PAYOUT_FUNCTION_MAX_DURATION_SECONDS: "30" });
  for (let i = 0; i < 3; i++) await seedPayee(t.db, ts, { connectedCents: 2000 + i });
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

const dispatched = () =>
  queryRows<{ dedupe_id: string; body: { runId: string; chainId?: string; continuation?: number } }>(
    t.db,
    sql`select dedupe_id, body from local_dispatches order by created_at`,
  );

describe("payout run watchdog", () => {
  it("leaves a live run alone, takes over a silent one with a new chain, and the old chain stops", async () => {
    await t.db.execute(sql`delete from local_dispatches`);
    const trig = await triggerPayoutRun(t.db, getEnv(), {
      cycleDate: "2027-07-01",
      trigger: "manual",
      actor,
    });
    if (trig.kind !== "run" || !trig.chainId) throw new Error("no run");
    expect(await resumeStalledRuns(t.db, getEnv(), actor)).toEqual({ paused: false, expiredApprovals: 0, resumed: [] });

    // Its invocation died holding every payout: no heartbeat for 11 s, leases still running.
    await t.db.execute(sql`update payouts set status = 'processing', attempts = 1, first_attempt_at = now(), lease_owner = 'exec:dead',
                             lease_expires_at = now() + interval '40 seconds' where run_id = ${trig.runId}`);
    await t.db.execute(
      sql`update payout_runs set heartbeat_at = now() - interval '11 seconds' where id = ${trig.runId}`,
    );
    const result = await resumeStalledRuns(t.db, getEnv(), actor);
    expect(result.resumed).toEqual([
      { runId: trig.runId, cycleKey: "2027-07-01", was: "executing", silentSeconds: 11 },
    ]);
    const [run] = await queryRows<{ executor_chain: string }>(
      t.db,
      sql`select executor_chain from payout_runs where id = ${trig.runId}`,
    );
    expect(run!.executor_chain).not.toBe(trig.chainId);
    // the dead slice's leases end with the take-over, so nothing waits for them
    const rows = await payoutRows(t.db, trig.runId);
    expect(rows.every((r) => new Date(r.lease_expires_at as string).getTime() <= Date.now())).toBe(true);
    // the new chain's first step is queued for the dispatcher
    expect(await dispatched()).toEqual([
      {
        dedupe_id: `payout-run-${trig.runId}-${run!.executor_chain}-0`,
        body: { runId: trig.runId, chainId: run!.executor_chain, continuation: 0 },
      },
    ]);
    // running it again right away finds nothing to do: the run beats again
    expect((await resumeStalledRuns(t.db, getEnv(), actor)).resumed).toEqual([]);
    // a late step of the old chain stops instead of forking a second chain
    const late = await resumePayoutRun(t.db, getEnv(), ts.gateway, {
      runId: trig.runId,
      chainId: trig.chainId,
      continuation: 3,
      actor,
    });
    expect(late).toMatchObject({ status: "superseded" });
    // the new chain's step pays everyone (after looking each payout up, since it was claimed before)
    const step = await resumePayoutRun(t.db, getEnv(), ts.gateway, {
      runId: trig.runId,
      chainId: run!.executor_chain,
      continuation: 0,
      actor,
    });
    expect(step).toMatchObject({ status: "completed", state: "done" });
    const audit = await queryRows<{ reason: string; after: { leasesEnded: number } }>(
      t.db,
      sql`select reason, after from audit_log where action = 'payout_run.resumed' and entity_id = ${trig.runId}`,
    );
    expect(audit).toEqual([
      { reason: "watchdog: no heartbeat for 11 s", after: expect.objectContaining({ leasesEnded: 3 }) },
    ]);
    const alerts = await queryRows<{ type: string }>(
      t.db,
      sql`select type from outbox_events where aggregate_id = ${trig.runId} and type = 'alert.run_stuck'`,
    );
    expect(alerts.length).toBe(1);
  });

  it("plans a run whose planner died, and resumes nothing while payouts are paused", async () => {
    await t.db.execute(sql`delete from local_dispatches`);
    const [created] = await queryRows<{ id: string }>(
      t.db,
      sql`insert into payout_runs (cycle_key, cycle_date, cutoff_at, status, trigger, heartbeat_at)
          values ('2027-08-01', '2027-08-01', now() - interval '1 hour', 'planning', 'schedule', now() - interval '1 minute')
          returning id`,
    );
    await setPayoutsPaused(t.db, { paused: true, actor, reason: "drill" });
    expect(await resumeStalledRuns(t.db, getEnv(), actor)).toEqual({ paused: true, expiredApprovals: 0, resumed: [] });
    await setPayoutsPaused(t.db, { paused: false, actor });
    const result = await resumeStalledRuns(t.db, getEnv(), actor);
    expect(result.resumed).toEqual([
      { runId: created!.id, cycleKey: "2027-08-01", was: "planning", silentSeconds: 60 },
    ]);
    const [run] = await queryRows<{ status: string; executor_chain: string | null }>(
      t.db,
      sql`select status, executor_chain from payout_runs where id = ${created!.id}`,
    );
    expect(run!.status).toBe("executing");
    expect((await dispatched()).map((d) => d.body)).toEqual([
      { runId: created!.id, chainId: run!.executor_chain, continuation: 0 },
    ]);
  });

  it("a nudge (retry, ops) takes the run over only when nobody works on it", async () => {
    const trig = await triggerPayoutRun(t.db, getEnv(), {
      cycleDate: "2027-09-01",
      trigger: "manual",
      actor,
    });
    if (trig.kind !== "run") throw new Error("no run");
    const live = await resumePayoutRun(t.db, getEnv(), ts.gateway, { runId: trig.runId, actor });
    expect(live).toMatchObject({ status: "executing", note: "a live slice is working on this run" });
    await t.db.execute(
      sql`update payout_runs set heartbeat_at = now() - interval '1 day' where id = ${trig.runId}`,
    );
    const nudged = await resumePayoutRun(t.db, getEnv(), ts.gateway, { runId: trig.runId, actor });
    expect(nudged).toMatchObject({ state: "done" });
  });
});
