import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as retryRoute } from "@/app/internal/payouts/[payoutId]/retry/route";
import { GET as healthRoute } from "@/app/internal/payouts/health/route";
import { POST as pauseRoute } from "@/app/internal/payouts/pause/route";
import { POST as resumeRoute } from "@/app/internal/payouts/resume/route";
import { POST as runRoute } from "@/app/internal/payouts/run/route";
import { GET as statusRoute } from "@/app/internal/payouts/status/[runId]/route";
import { queryRows } from "@/db/client";
import { availableBalance, payeeBalances, unbalancedTransactions } from "@/lib/ledger";
import { latestCycle } from "@/lib/payouts/cycle";
import { applyPayoutEvent } from "@/lib/payouts/settle";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { internalRequest, payoutRows, routeCtx, seedPayee, stripeWrites, useAppEnv } from "./helpers";

const CYCLE = latestCycle(new Date(), "UTC").cycleDate;
type Problem = { payeeId: string; code: string };
type StatusBody = {
  counts: Record<string, number>;
  amountsByCurrency: Record<string, Record<string, number>>;
  skipped: Problem[];
  failed: Problem[];
};
type HealthBody = Record<string, unknown> & {
  recentRuns: unknown[];
  stuckRuns: { cycle_key: string }[];
  failuresLast7Days: number;
};
let t: TestDb;
let ts: TestStripe;

beforeAll(async () => {
  t = await createTestDb();
  ts = await startTestStripe();
  useAppEnv(t.db, ts.simulator.url);
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

const run = async (body: unknown) => {
  const res = await runRoute(internalRequest("POST", "/internal/payouts/run", body), routeCtx());
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const status = async (runId: string) => {
  const res = await statusRoute(
    internalRequest("GET", `/internal/payouts/status/${runId}`),
    routeCtx({ runId }),
  );
  return { status: res.status, body: (await res.json()) as StatusBody };
};

describe("go-live smoke", () => {
  it("no or wrong secret is 401 and writes nothing; a bad body is 400", async () => {
    const none = await runRoute(internalRequest("POST", "/internal/payouts/run", {}, null), routeCtx());
    expect(none.status).toBe(401);
    const wrong = await runRoute(
      internalRequest("POST", "/internal/payouts/run", {}, "wrong-secret-wrong-secret"),
      routeCtx(),
    );
    expect(wrong.status).toBe(401);
    const bad = await run({ cycleDate: "15/11/2026" });
    expect(bad.status).toBe(400);
    const [{ n }] = (await queryRows<{ n: string }>(t.db, sql`select count(*) as n from payout_runs`)) as [
      { n: string },
    ];
    expect(Number(n)).toBe(0);
  });

  it("pays an onboarded payee's $45 from a $50 destination charge; below threshold is skipped; ineligible is skipped", async () => {
    const earner = await seedPayee(t.db, ts, { connectedCents: 4500, name: "Earner" });
    const placer = await seedPayee(t.db, ts, { platformCents: 3000, connectedCents: 2000, name: "Placer" });
    const small = await seedPayee(t.db, ts, { connectedCents: 500, name: "Small" });
    const notOnboarded = await seedPayee(t.db, ts, { platformCents: 5000, onboarded: false, name: "New" });
    expect(await availableBalance(t.db, earner.payeeId, "usd")).toBe(4500);
    expect(ts.simulator.balances(earner.accountId).balances[0]?.available).toBe(4500);

    const first = await run({ cycleDate: CYCLE });
    // this call started the run (202) even though it finished within the call
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ cycleKey: CYCLE, status: "completed" });
    const runId = first.body.runId as string;
    expect(first.body.statusUrl).toBe(`/internal/payouts/status/${runId}`);

    const s = await status(runId);
    expect(s.status).toBe(200);
    expect(s.body.counts).toMatchObject({ in_transit: 2, skipped: 2, failed: 0, planned: 0 });
    expect(s.body.amountsByCurrency.usd?.in_transit).toBe(9500);
    expect(s.body.skipped.map((x: Problem) => [x.payeeId, x.code]).sort()).toEqual(
      [
        [small.payeeId, "below_threshold"],
        [notOnboarded.payeeId, "onboarding_incomplete"],
      ].sort(),
    );
    const rows = await payoutRows(t.db, runId);
    const placerRow = rows.find((r) => r.payee_id === placer.payeeId)!;
    expect(Number(placerRow.transfer_amount_cents)).toBe(3000);
    expect(Number(rows.find((r) => r.payee_id === earner.payeeId)!.transfer_amount_cents)).toBe(0);
    expect(placerRow.payout_idempotency_key).toBe(`payout:${placerRow.id}:payout`);
    expect(await availableBalance(t.db, small.payeeId, "usd")).toBe(500);
    expect((await payeeBalances(t.db, earner.payeeId)).usd).toMatchObject({ available: 0, in_transit: 4500 });
    const writes = stripeWrites(ts);
    expect(writes).toMatchObject({ transfersCreated: 1, payoutsCreated: 2 });

    // payout.paid settles it
    const earnerRow = rows.find((r) => r.payee_id === earner.payeeId)!;
    ts.simulator.settlePayout(earnerRow.stripe_payout_id as string, "paid");
    const paid = await applyPayoutEvent(t.db, {
      outcome: "paid",
      stripePayoutId: earnerRow.stripe_payout_id as string,
      eventId: "evt_paid_1",
      occurredAt: new Date(),
    });
    expect(paid).toEqual({ result: "applied", payoutId: earnerRow.id });
    expect(
      await applyPayoutEvent(t.db, {
        outcome: "paid",
        stripePayoutId: earnerRow.stripe_payout_id as string,
        eventId: "evt_paid_1",
        occurredAt: new Date(),
      }),
    ).toMatchObject({ result: "already_applied" });
    expect((await payeeBalances(t.db, earner.payeeId)).usd).toMatchObject({
      available: 0,
      in_transit: 0,
      paid: 4500,
    });
    expect((await status(runId)).body.counts).toMatchObject({ paid: 1, in_transit: 1 });
    expect(
      await applyPayoutEvent(t.db, {
        outcome: "paid",
        stripePayoutId: "po_unknown",
        eventId: "e",
        occurredAt: new Date(),
      }),
    ).toEqual({
      result: "unknown_payout",
    });

    // payout.failed keeps the reason and returns the funds
    // the bank account is closed: Stripe fails the payout and says so by webhook
    const bankRejects = (stripePayoutId: string, eventId: string) => {
      ts.simulator.settlePayout(stripePayoutId, "failed", "account_closed");
      return applyPayoutEvent(t.db, {
        outcome: "failed",
        stripePayoutId,
        payoutId: placerRow.id as string,
        failureCode: "account_closed",
        failureMessage: "The bank account has been closed",
        eventId,
        occurredAt: new Date(),
      });
    };
    const failed = await bankRejects(placerRow.stripe_payout_id as string, "evt_failed_1");
    expect(failed.result).toBe("applied");
    expect(await availableBalance(t.db, placer.payeeId, "usd")).toBe(5000);
    const after = await status(runId);
    expect(after.body.failed).toEqual([
      expect.objectContaining({ payeeId: placer.payeeId, code: "account_closed" }),
    ]);
    const alerts = await queryRows<{ type: string }>(
      t.db,
      sql`select type from outbox_events where type = 'alert.payout_failed'`,
    );
    expect(alerts.length).toBe(1);
    expect(await unbalancedTransactions(t.db)).toEqual([]);

    // the same cycle again: the same run, nothing new at Stripe
    const again = await run({ cycleDate: CYCLE });
    expect(again.body.runId).toBe(runId);
    expect(again.status).toBe(200);
    expect(stripeWrites(ts)).toMatchObject({ transfersCreated: 1, payoutsCreated: 2 });
    const [{ n }] = (await queryRows<{ n: string }>(
      t.db,
      sql`select count(*) as n from payout_runs where not dry_run`,
    )) as [{ n: string }];
    expect(Number(n)).toBe(1);

    // retry the failed payout: the transfer stays, only the payout is redone
    const retry = await retryRoute(
      internalRequest("POST", `/internal/payouts/${placerRow.id}/retry`, {}),
      routeCtx({ payoutId: placerRow.id as string }),
    );
    expect(retry.status).toBe(202);
    // the retried run resumes on the next trigger (its heartbeat was made stale)
    const resumed = await run({ cycleDate: CYCLE });
    expect(resumed.body.runId).toBe(runId);
    expect(stripeWrites(ts)).toMatchObject({ transfersCreated: 1, payoutsCreated: 3 });
    expect((await payeeBalances(t.db, placer.payeeId)).usd).toMatchObject({ available: 0, in_transit: 5000 });

    // the retried payout fails too: its funds come back again, not swallowed as a replay of the
    // first reversal
    const retryAgain = async () => {
      const res = await retryRoute(
        internalRequest("POST", `/internal/payouts/${placerRow.id}/retry`, {}),
        routeCtx({ payoutId: placerRow.id as string }),
      );
      expect(res.status).toBe(202);
      await run({ cycleDate: CYCLE });
    };
    const [second] = await queryRows<{ stripe_payout_id: string; retries: number }>(
      t.db,
      sql`select stripe_payout_id, retries from payouts where id = ${placerRow.id}`,
    );
    expect(second).toMatchObject({ retries: 1 });
    const failedAgain = await bankRejects(second!.stripe_payout_id, "evt_failed_2");
    expect(failedAgain.result).toBe("applied");
    expect((await payeeBalances(t.db, placer.payeeId)).usd).toMatchObject({ available: 5000, in_transit: 0 });
    // ...and ops hear about the second failure too
    const alertsNow = await queryRows<{ type: string }>(
      t.db,
      sql`select type from outbox_events where type = 'alert.payout_failed'`,
    );
    expect(alertsNow.length).toBe(2);
    // a second retry really sends a new payout (a new idempotency key, not Stripe's cached failure)
    await retryAgain();
    expect(stripeWrites(ts)).toMatchObject({ transfersCreated: 1, payoutsCreated: 4 });
    expect((await payeeBalances(t.db, placer.payeeId)).usd).toMatchObject({ available: 0, in_transit: 5000 });
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });

  it("dry run reports without writing payouts or calling Stripe writes", async () => {
    const payee = await seedPayee(t.db, ts, { connectedCents: 2500 });
    const before = stripeWrites(ts);
    const dry = await run({ cycleDate: "2026-12-01", dryRun: true, payeeIds: [payee.payeeId] });
    expect(dry.status).toBe(200);
    expect(dry.body.dryRun).toBe(true);
    expect(dry.body.report).toMatchObject({ planned: 1, skipped: 0, amountsByCurrency: { usd: 2500 } });
    expect(stripeWrites(ts)).toEqual(before);
    const [{ n }] = (await queryRows<{ n: string }>(
      t.db,
      sql`select count(*) as n from payouts p join payout_runs r on r.id = p.run_id where r.dry_run`,
    )) as [{ n: string }];
    expect(Number(n)).toBe(0);
  });

  it("paused: 200 {status: paused} and nothing written; resume lifts it", async () => {
    const p = await pauseRoute(
      internalRequest("POST", "/internal/payouts/pause", { reason: "bank incident" }),
      routeCtx(),
    );
    expect(p.status).toBe(200);
    const paused = await run({ cycleDate: "2027-01-01" });
    expect(paused).toEqual({ status: 200, body: { status: "paused" } });
    const [{ n }] = (await queryRows<{ n: string }>(
      t.db,
      sql`select count(*) as n from payout_runs where cycle_key = '2027-01-01'`,
    )) as [{ n: string }];
    expect(Number(n)).toBe(0);
    const audit = await queryRows<{ action: string }>(
      t.db,
      sql`select action from audit_log where action like 'payouts.%'`,
    );
    expect(audit.map((a) => a.action)).toContain("payouts.paused");
    const r = await resumeRoute(internalRequest("POST", "/internal/payouts/resume", {}), routeCtx());
    expect(((await r.json()) as { paused: boolean }).paused).toBe(false);
  });

  it("health lists recent runs, stuck runs and recent failures; unknown run is 404", async () => {
    await t.db.execute(sql`insert into payout_runs (cycle_key, cycle_date, cutoff_at, status, heartbeat_at)
      values ('2026-10-01', '2026-10-01', '2026-10-01T06:00:00Z', 'executing', now() - interval '20 minutes')`);
    const res = await healthRoute(internalRequest("GET", "/internal/payouts/health"), routeCtx());
    expect(res.status).toBe(200);
    const body = (await res.json()) as HealthBody;
    expect(body).toMatchObject({ database: "ok", stripeMode: "simulator", scheduler: "local", paused: false });
    // exactly what the database holds, whichever tests ran before this one
    const [counts] = await queryRows<{ runs: string; failed: string }>(
      t.db,
      sql`select (select count(*) from payout_runs) as runs,
                 (select count(*) from payouts where status = 'failed' and updated_at > now() - interval '7 days') as failed`,
    );
    expect(body.recentRuns.length).toBe(Math.min(10, Number(counts!.runs)));
    expect(body.stuckRuns.map((r: { cycle_key: string }) => r.cycle_key)).toContain("2026-10-01");
    expect(body.failuresLast7Days).toBe(Number(counts!.failed));
    const missing = await status("00000000-0000-0000-0000-000000000000");
    expect(missing.status).toBe(404);
  });
});
