import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as approveRoute from "@/app/api/v1/payouts/[id]/approve/route";
import * as rejectRoute from "@/app/api/v1/payouts/[id]/reject/route";
import * as settingsRoute from "@/app/api/v1/payees/[id]/payout-settings/route";
import { queryRows } from "@/db/client";
import { systemActor } from "@/lib/actor";
import { getEnv, loadEnv, parseCentsByCurrency, resetEnvCache } from "@/lib/env";
import { payeeBalances } from "@/lib/ledger";
import { listAwaitingApproval } from "@/lib/payouts/approval";
import { resumePayoutRun } from "@/lib/payouts/continue";
import { listPayeePayouts } from "@/lib/payouts/queries";
import { triggerAndExecutePayoutRun } from "@/lib/payouts/run";
import { resumeStalledRuns } from "@/lib/payouts/watchdog";
import { resetStripeClient } from "@/lib/stripe/client";
import { apiRequest, routeParams, tokenFor } from "../../support/auth";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { seedPayee, useAppEnv } from "./helpers";

// Four-eyes approval of large payouts (PAYOUT_APPROVAL_THRESHOLD_CENTS): planned as awaiting_approval
// with the money left in available, decided through the API with a reason, never by the person who
// changed the payee's settings or by the payee, sent by the run once approved, released to the next
// cycle when nobody approved it in time.

let t: TestDb;
let ts: TestStripe;
const actor = systemActor("approvals-test");
const saved = { ...process.env };

beforeAll(async () => {
  [t, ts] = await Promise.all([createTestDb(), startTestStripe()]);
  for (const key of ["SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_JWT_SECRET", "VERCEL"])
    delete process.env[key];
  useAppEnv(t.db, ts.simulator.url, { PAYOUT_APPROVAL_THRESHOLD_CENTS: '{"usd":5000}' });
});
afterAll(async () => {
  process.env = saved;
  resetEnvCache();
  resetStripeClient();
  await ts?.close();
  await t?.close();
});

const decide = async (
  kind: "approve" | "reject",
  payoutId: string,
  token: string,
  body: unknown = { reason: "checked the invoice" },
) => {
  const route = kind === "approve" ? approveRoute : rejectRoute;
  const res = await route.POST(
    apiRequest("POST", `/api/v1/payouts/${payoutId}/${kind}`, { token, body }),
    routeParams({ id: payoutId }) as never,
  );
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string } },
  };
};
const payoutOf = async (payeeId: string, runId: string) =>
  (
    await queryRows<{
      id: string;
      status: string;
      ledger_transaction_id: string | null;
      skip_reason: string | null;
      approval_reason: string | null;
    }>(
      t.db,
      sql`select id, status, ledger_transaction_id, skip_reason, approval_reason from payouts where payee_id = ${payeeId} and run_id = ${runId}`,
    )
  )[0]!;
const run = async (cycleDate: string) => {
  const result = await triggerAndExecutePayoutRun(t.db, getEnv(), ts.gateway, {
    cycleDate,
    trigger: "manual",
    actor,
  });
  if (result.kind !== "run") throw new Error(`no run: ${result.kind}`);
  return result;
};
const available = async (payeeId: string) => (await payeeBalances(t.db, payeeId)).usd?.available ?? 0;
const inTransit = async (payeeId: string) => (await payeeBalances(t.db, payeeId)).usd?.in_transit ?? 0;

describe("PAYOUT_APPROVAL_THRESHOLD_CENTS", () => {
  it("reads JSON or a list, per currency, and names a bad value", () => {
    expect(parseCentsByCurrency('{"usd":500000,"EUR":1}')).toEqual({ usd: 500000, eur: 1 });
    expect(parseCentsByCurrency("usd:500000, eur:400000")).toEqual({ usd: 500000, eur: 400000 });
    expect(parseCentsByCurrency("")).toEqual({});
    expect(parseCentsByCurrency("usd:1.5")).toMatch(/whole/);
    expect(parseCentsByCurrency("dollars:5")).toMatch(/currency code/);
    expect(() => loadEnv({ PAYOUT_APPROVAL_THRESHOLD_CENTS: "{nope" })).toThrow(
      /PAYOUT_APPROVAL_THRESHOLD_CENTS/,
    );
    expect(loadEnv({}).PAYOUT_APPROVAL_THRESHOLD_CENTS).toEqual({});
  });
});

describe("four-eyes approval", () => {
  it("plans a payout above the threshold as awaiting_approval, leaves its money available, sends the rest", async () => {
    const big = await seedPayee(t.db, ts, { connectedCents: 6000, name: "Big" });
    const small = await seedPayee(t.db, ts, { connectedCents: 4000, name: "Small" });
    const r = await run("2027-07-01");
    expect(r.status).toBe("completed");
    const p = await payoutOf(big.payeeId, r.runId);
    expect(p).toMatchObject({ status: "awaiting_approval", ledger_transaction_id: null });
    expect(await available(big.payeeId)).toBe(6000);
    expect((await payoutOf(small.payeeId, r.runId)).status).toBe("in_transit");
    const alerts = await queryRows<{ type: string }>(
      t.db,
      sql`select type from outbox_events where aggregate_id = ${r.runId} and type = 'alert.payouts_awaiting_approval'`,
    );
    expect(alerts).toHaveLength(1);
    // the payee's dashboard says why it has not come
    const mine = await listPayeePayouts(t.db, big.payeeId);
    expect(mine.payouts[0]).toMatchObject({ status: "awaiting_approval" });
  });

  it("refuses a decision without a reason, by the payee, by its own payee, and by whoever changed its settings", async () => {
    const payee = await seedPayee(t.db, ts, { connectedCents: 7000, name: "Guarded" });
    const r = await run("2027-08-01");
    const p = await payoutOf(payee.payeeId, r.runId);
    expect(p.status).toBe("awaiting_approval");

    const admin = await tokenFor("platform_admin", { userId: randomUUID() });
    const missing = await decide("approve", p.id, admin, {});
    expect(missing.status).toBe(400);
    const blank = await decide("approve", p.id, admin, { reason: "   " });
    expect(blank.status).toBe(400);
    const nul = await decide("approve", p.id, admin, { reason: "ok\u0000" });
    expect(nul.status).toBe(400);
    // a payee user never reaches the route
    expect((await decide("approve", p.id, await tokenFor("payee", { payeeId: payee.payeeId }))).status).toBe(
      403,
    );

    // an admin who is this payee's own user
    const ownUser = randomUUID();
    await t.db.execute(sql`update payees set user_id = ${ownUser} where id = ${payee.payeeId}`);
    const own = await decide("approve", p.id, await tokenFor("platform_admin", { userId: ownUser }));
    expect(own.status).toBe(403);
    expect(own.body.error?.message).toMatch(/their own payout/);

    // an admin who changed the payee's payout settings (audited) may not approve, nor reject
    const changerId = randomUUID();
    const changer = await tokenFor("platform_admin", { userId: changerId });
    const patched = await settingsRoute.PATCH(
      apiRequest("PATCH", `/api/v1/payees/${payee.payeeId}/payout-settings`, {
        token: changer,
        body: { betaRollout: true },
      }),
      routeParams({ id: payee.payeeId }) as never,
    );
    expect(patched.status).toBe(200);
    const refused = await decide("approve", p.id, changer);
    expect(refused.status).toBe(403);
    expect(refused.body.error?.message).toMatch(/changed this payee's payout or bank settings/);
    expect((await decide("reject", p.id, changer)).status).toBe(403);
    // the approvals list tells them so before they try
    const listed = await listAwaitingApproval(t.db, {
      actor: { type: "user", id: changerId, role: "platform_admin" },
    });
    expect(listed.find((x) => x.payoutId === p.id)?.refusal).toMatch(/changed this payee's/);
    // a change older than 30 days no longer counts (the audit log is append-only: an old row of another user)
    const oldChanger = randomUUID();
    await t.db.execute(sql`insert into audit_log (occurred_at, actor_type, actor_id, actor_role, action, entity_type, entity_id)
                           values (now() - interval '31 days', 'user', ${oldChanger}, 'platform_admin', 'payout_settings.updated',
                                   'payout_settings', ${payee.payeeId})`);
    const asOld = await listAwaitingApproval(t.db, {
      actor: { type: "user", id: oldChanger, role: "platform_admin" },
    });
    expect(asOld.find((x) => x.payoutId === p.id)?.refusal).toBeNull();

    // nothing was written by the refusals
    expect(await payoutOf(payee.payeeId, r.runId)).toMatchObject({
      status: "awaiting_approval",
      approval_reason: null,
    });
    const audits = await queryRows(
      t.db,
      sql`select 1 from audit_log where entity_id = ${p.id} and action in ('payout.approved', 'payout.rejected')`,
    );
    expect(audits).toHaveLength(0);
  });

  it("an approval (finance) moves the money to in transit, reopens the finished run, and the run sends it", async () => {
    const payee = await seedPayee(t.db, ts, { connectedCents: 8000, platformCents: 1000, name: "Approved" });
    const r = await run("2027-09-01");
    expect(r.status).toBe("completed");
    const p = await payoutOf(payee.payeeId, r.runId);
    const finance = await tokenFor("finance", { userId: randomUUID() });
    const res = await decide("approve", p.id, finance, { reason: "matches the signed contract" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ payoutId: p.id, runId: r.runId, status: "planned", reopenedRun: true });
    expect(await available(payee.payeeId)).toBe(0);
    expect(await inTransit(payee.payeeId)).toBe(9000);
    const [runRow] = await queryRows<{ status: string; executor_chain: string }>(
      t.db,
      sql`select status, executor_chain from payout_runs where id = ${r.runId}`,
    );
    expect(runRow!.status).toBe("executing");
    // the reopened run's new chain was dispatched; its step sends the payout
    const [dispatch] = await queryRows<{ body: { chainId: string } }>(
      t.db,
      sql`select body from local_dispatches where body->>'runId' = ${r.runId} order by created_at desc limit 1`,
    );
    expect(dispatch!.body.chainId).toBe(runRow!.executor_chain);
    const step = await resumePayoutRun(t.db, getEnv(), ts.gateway, {
      runId: r.runId,
      chainId: runRow!.executor_chain,
      continuation: 0,
      actor,
    });
    expect(step).toMatchObject({ status: "completed" });
    expect((await payoutOf(payee.payeeId, r.runId)).status).toBe("in_transit");
    expect(ts.simulator.balances(payee.accountId).balances[0]?.available).toBe(0);
    // approved once: a second decision is a conflict
    expect((await decide("approve", p.id, finance)).status).toBe(409);
    const [audit] = await queryRows<{ actor_role: string; reason: string }>(
      t.db,
      sql`select actor_role, reason from audit_log where entity_id = ${p.id} and action = 'payout.approved'`,
    );
    expect(audit).toEqual({ actor_role: "finance", reason: "matches the signed contract" });
  });

  it("a rejection leaves the money available; the next cycle plans it again", async () => {
    const payee = await seedPayee(t.db, ts, { connectedCents: 9000, name: "Rejected" });
    const r = await run("2027-10-01");
    const p = await payoutOf(payee.payeeId, r.runId);
    const admin = await tokenFor("platform_admin", { userId: randomUUID() });
    const res = await decide("reject", p.id, admin, { reason: "unusual spike, asking the marketplace" });
    expect(res.status).toBe(200);
    expect(await payoutOf(payee.payeeId, r.runId)).toMatchObject({
      status: "rejected",
      skip_reason: "approval_rejected",
    });
    expect(await available(payee.payeeId)).toBe(9000);
    const next = await run("2027-10-15");
    expect((await payoutOf(payee.payeeId, next.runId)).status).toBe("awaiting_approval");
  });

  it("not approved when the cycle closes: released (expired_unapproved), money never left available, paid next cycle", async () => {
    const payee = await seedPayee(t.db, ts, { connectedCents: 6500, name: "Late" });
    const r = await run("2027-11-01");
    const p = await payoutOf(payee.payeeId, r.runId);
    expect(p.status).toBe("awaiting_approval");
    // the watchdog releases it once its close time has passed, even before the next run plans
    await t.db.execute(
      sql`update payouts set approval_expires_at = now() - interval '1 second' where id = ${p.id}`,
    );
    const admin = await tokenFor("platform_admin", { userId: randomUUID() });
    const late = await decide("approve", p.id, admin);
    expect(late.status).toBe(409);
    expect(late.body.error?.message).toMatch(/cycle has closed/);
    const tick = await resumeStalledRuns(t.db, getEnv(), actor);
    expect(tick.expiredApprovals).toBeGreaterThanOrEqual(1);
    expect(await payoutOf(payee.payeeId, r.runId)).toMatchObject({
      status: "expired_unapproved",
      skip_reason: "approval_expired",
    });
    expect(await available(payee.payeeId)).toBe(6500);
    const mine = await listPayeePayouts(t.db, payee.payeeId);
    expect(mine.payouts[0]).toMatchObject({ status: "expired_unapproved", skipReason: "approval_expired" });
    // still above the threshold: the next cycle asks again; this time it is approved and sent
    const next = await run("2027-11-15");
    const again = await payoutOf(payee.payeeId, next.runId);
    expect(again.status).toBe("awaiting_approval");
    expect((await decide("approve", again.id, admin)).status).toBe(200);
    const [runRow] = await queryRows<{ executor_chain: string }>(
      t.db,
      sql`select executor_chain from payout_runs where id = ${next.runId}`,
    );
    await resumePayoutRun(t.db, getEnv(), ts.gateway, {
      runId: next.runId,
      chainId: runRow!.executor_chain,
      continuation: 0,
      actor,
    });
    expect((await payoutOf(payee.payeeId, next.runId)).status).toBe("in_transit");
    expect(await available(payee.payeeId)).toBe(0);
  });

  it("planning the next cycle releases what is still awaiting approval of the last one", async () => {
    const payee = await seedPayee(t.db, ts, { connectedCents: 5500, name: "Rolled" });
    const r = await run("2027-12-01");
    const p = await payoutOf(payee.payeeId, r.runId);
    expect(p.status).toBe("awaiting_approval");
    const next = await run("2027-12-15");
    expect((await payoutOf(payee.payeeId, r.runId)).status).toBe("expired_unapproved");
    expect((await payoutOf(payee.payeeId, next.runId)).status).toBe("awaiting_approval");
    const [audit] = await queryRows<{ n: string }>(
      t.db,
      sql`select count(*) as n from audit_log where entity_id = ${p.id} and action = 'payout.approval_expired'`,
    );
    expect(Number(audit!.n)).toBe(1);
  });
});
