import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { systemActor } from "@/lib/actor";
import { getEnv } from "@/lib/env";
import { claimPayouts, releasePayout } from "@/lib/payouts/claim";
import { executePayoutRun } from "@/lib/payouts/execute";
import { StripeRateLimiter } from "@/lib/stripe/limiter";
import { triggerPayoutRun } from "@/lib/payouts/run";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { payoutRows, seedPayee, stripeWrites, useAppEnv } from "./helpers";

// `attempts` counts real tries at Stripe: running out of time is not one, and a slice tries each
// payout at most once. (A slice out of Stripe slots once released its payouts with a 0 s lease and
// claimed them again and again until its deadline: attempts reached 30-42 for ~3 real sends, and a
// few seconds of 5xx then failed payouts as retries_exhausted.)

let t: TestDb;
let ts: TestStripe;
const actor = systemActor("test");

beforeAll(async () => {
  t = await createTestDb();
  ts = await startTestStripe();
  useAppEnv(t.db, ts.simulator.url);
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

async function plannedRun(cycleDate: string, payees: number) {
  const payeeIds: string[] = [];
  for (let i = 0; i < payees; i++)
    payeeIds.push((await seedPayee(t.db, ts, { connectedCents: 3000 + i })).payeeId);
  const trig = await triggerPayoutRun(t.db, getEnv(), { cycleDate, payeeIds, trigger: "manual", actor });
  if (trig.kind !== "run") throw new Error("no run");
  return trig.runId;
}

const claimsPerPayout = async (runId: string) =>
  queryRows<{ entity_id: string; n: string }>(
    t.db,
    sql`select entity_id, count(*) as n from audit_log
        where action in ('payout.claimed', 'payout.reclaimed')
          and entity_id in (select id::text from payouts where run_id = ${runId})
        group by entity_id`,
  );

/** One slice of 2.5 s with a fresh limiter allowing one payout call a second: three slots at most. */
const slowShortSlice = (runId: string, concurrency: number) =>
  executePayoutRun(t.db, getEnv(), ts.gateway, {
    runId,
    deadline: Date.now() + 2_500,
    concurrency,
    limiter: new StripeRateLimiter({ overall: 100, perEndpoint: 25, payouts: 1 }),
  });

describe("payout attempts", () => {
  it("a slice out of Stripe slots hands payouts back without counting an attempt, and claims none twice", async () => {
    ts.simulator.reset();
    const runId = await plannedRun("2027-02-01", 6);
    // An earlier invocation died after claiming them: they are due for a lookup at Stripe first.
    await t.db.execute(sql`update payouts set status = 'processing', attempts = 1, first_attempt_at = now(),
                             lease_owner = 'exec:dead', lease_expires_at = now() - interval '1 second'
                           where run_id = ${runId} and status = 'planned'`);
    // One payout a second for a 2.5 s slice: most of them find no slot before the deadline.
    const first = await slowShortSlice(runId, 4);
    expect(first.state).toBe("more");
    const afterFirst = await payoutRows(t.db, runId);
    expect(afterFirst.every((r) => Number(r.attempts) <= 2)).toBe(true);
    expect((await claimsPerPayout(runId)).every((c) => Number(c.n) === 1)).toBe(true);
    expect(afterFirst.filter((r) => r.status === "failed")).toEqual([]);

    const rest = await executePayoutRun(t.db, getEnv(), ts.gateway, { runId, deadline: Date.now() + 30_000 });
    expect(rest.state).toBe("done");
    const rows = await payoutRows(t.db, runId);
    expect(rows.map((r) => r.status)).toEqual(rows.map(() => "in_transit"));
    // one try before the crash, one that paid: never more, however often time ran out in between
    expect(rows.map((r) => Number(r.attempts))).toEqual(rows.map(() => 2));
    expect(stripeWrites(ts)).toMatchObject({ payoutsCreated: 6, payoutRequests: 6 });
  });

  it("a payout released after a retryable error is not claimed again by the same slice", async () => {
    const runId = await plannedRun("2027-02-15", 1);
    const [claimed] = await claimPayouts(t.db, {
      runId,
      owner: "exec:a",
      limit: 10,
      actor,
      leaseSeconds: 60,
    });
    expect(claimed!.attempts).toBe(1);
    await releasePayout(t.db, claimed!.id, "exec:a", 0);
    expect(await claimPayouts(t.db, { runId, owner: "exec:a", limit: 10, actor, leaseSeconds: 60 })).toEqual(
      [],
    );
    const [next] = await claimPayouts(t.db, { runId, owner: "exec:b", limit: 10, actor, leaseSeconds: 60 });
    expect(next).toMatchObject({ id: claimed!.id, attempts: 2 });
  });

  it("Stripe 5xx for a few seconds fails nothing: each slice makes one real attempt per payout", async () => {
    const runId = await plannedRun("2027-03-01", 4);
    ts.simulator.setFaults({ endpoints: { "POST /v1/payouts": { errorCount: 12 } } });
    let result = await executePayoutRun(t.db, getEnv(), ts.gateway, {
      runId,
      deadline: Date.now() + 20_000,
      maxRetries: 0,
    });
    for (let slice = 0; slice < 6 && result.state === "more"; slice++) {
      await t.db.execute(
        sql`update payouts set lease_expires_at = now() - interval '1 second' where run_id = ${runId} and status = 'processing'`,
      );
      result = await executePayoutRun(t.db, getEnv(), ts.gateway, {
        runId,
        deadline: Date.now() + 20_000,
        maxRetries: 0,
      });
    }
    ts.simulator.setFaults({});
    expect(result.state).toBe("done");
    const rows = await payoutRows(t.db, runId);
    expect(rows.map((r) => r.status)).toEqual(rows.map(() => "in_transit"));
    // Every attempt counted reached Stripe (one request or more, with the SDK's own retries).
    const log = ts.simulator.requests(0, 100_000).filter((r) => r.endpoint === "POST /v1/payouts");
    for (const row of rows) {
      const tries = log.filter((r) => r.idempotencyKey === row.payout_idempotency_key).length;
      expect(Number(row.attempts)).toBeGreaterThanOrEqual(1);
      expect(Number(row.attempts)).toBeLessThanOrEqual(tries);
    }
    const created = log.filter(
      (r) => r.status < 400 && rows.some((row) => row.payout_idempotency_key === r.idempotencyKey),
    );
    expect(new Set(created.flatMap((r) => r.createdIds)).size).toBe(4);
  });

  it("a slice claims no more payouts than the limiter can start before its deadline, fewest attempts first", async () => {
    ts.simulator.reset();
    const runId = await plannedRun("2027-03-15", 6);
    // One payout was tried (and released) three times already: the untried ones go first.
    const [tried] = await payoutRows(t.db, runId);
    await t.db.execute(sql`update payouts set attempts = 3, first_attempt_at = now() where id = ${tried!.id}`);
    // One payout call a second and 2.5 s left: three slots (now, ~1.05 s, ~2.1 s), so three claims.
    // Claiming all six made the other three wait, go back unstarted, and cost the next slice one
    // lookup at Stripe each (seeds 2049 and 2051 of the fault suite crawled at a payout per slice).
    const result = await slowShortSlice(runId, 8);
    expect(result.state).toBe("more");
    expect(result.outcomes).toMatchObject({ in_transit: 3, not_started: 0, interrupted: 0 });
    const claimed = await claimsPerPayout(runId);
    expect(claimed).toHaveLength(3);
    expect(claimed.map((c) => c.entity_id)).not.toContain(tried!.id);
    const rows = await payoutRows(t.db, runId);
    expect(rows.filter((r) => r.status === "planned")).toHaveLength(3);
    expect(stripeWrites(ts)).toMatchObject({ payoutsCreated: 3, payoutRequests: 3 });
  });
});
