import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST } from "@/app/webhooks/stripe/route";
import { queryRows } from "@/db/client";
import { systemActor } from "@/lib/actor";
import { getEnv } from "@/lib/env";
import { payeeBalances, unbalancedTransactions } from "@/lib/ledger";
import { executePayoutRun } from "@/lib/payouts/execute";
import { triggerPayoutRun } from "@/lib/payouts/run";
import type { StripeEvent } from "@/lib/webhooks/types";
import { createTestDb, type TestDb } from "../../support/db";
import { buildEvent, signedDelivery, testWebhookSecrets, webhookRequest } from "../../support/stripe-events";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { payoutRows, seedPayee, useAppEnv } from "../payouts/helpers";

// Stripe's payout and transfer events for a payout of the run, signed and posted to the webhook
// route as Stripe sends them: first delivery, redelivery, and arrival out of order.

let t: TestDb;
let ts: TestStripe;
const actor = systemActor("test");
let cycle = 0;

beforeAll(async () => {
  t = await createTestDb();
  ts = await startTestStripe();
  useAppEnv(t.db, ts.simulator.url, { ...testWebhookSecrets, PAYOUT_RESERVE_PERCENT: "0" });
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

async function post(event: StripeEvent) {
  const { body, signature } = signedDelivery(event);
  const res = await POST(webhookRequest(body, signature));
  return { http: res.status, ...((await res.json()) as { status: string }) };
}

/** One payee paid by a run of its own: $20 from the platform (a transfer) and $15 on the connected account. */
async function paidPayee(hooks?: Parameters<typeof executePayoutRun>[3]["hooks"]) {
  const payee = await seedPayee(t.db, ts, { platformCents: 2000, connectedCents: 1500 });
  cycle++;
  const cycleDate = `2030-${String(cycle).padStart(2, "0")}-01`;
  const trig = await triggerPayoutRun(t.db, getEnv(), {
    cycleDate,
    payeeIds: [payee.payeeId],
    trigger: "manual",
    actor,
  });
  if (trig.kind !== "run") throw new Error("no run");
  const result = await executePayoutRun(t.db, getEnv(), ts.gateway, {
    runId: trig.runId,
    deadline: Date.now() + 60_000,
    hooks,
  });
  const [row] = await payoutRows(t.db, trig.runId);
  return { ...payee, row: row!, result };
}

/** An event about the payout as Stripe has it now (retrieved from the simulator), on its connected account. */
async function payoutEvent(
  type: "payout.paid" | "payout.failed" | "payout.canceled",
  account: string,
  payoutId: string,
  created?: number,
) {
  const po = await ts.stripe.payouts.retrieve(payoutId, {}, { stripeAccount: account });
  return buildEvent(type, "payout", po as unknown as Record<string, unknown>, { account, created });
}

const auditCount = async (action: string, payoutId: unknown) => {
  const [r] = await queryRows<{ n: string }>(
    t.db,
    sql`select count(*) as n from audit_log where action = ${action} and entity_id = ${String(payoutId)}`,
  );
  return Number(r!.n);
};
const statusOf = async (payoutId: unknown) =>
  (
    await queryRows<{ status: string; failure_code: string | null }>(
      t.db,
      sql`select status, failure_code from payouts where id = ${String(payoutId)}`,
    )
  )[0];

describe("payout events through POST /webhooks/stripe", () => {
  it("payout.paid settles the payout; its redelivery answers duplicate and moves nothing", async () => {
    const p = await paidPayee();
    expect(p.row.status).toBe("in_transit");
    ts.simulator.settlePayout(String(p.row.stripe_payout_id), "paid");
    const event = await payoutEvent("payout.paid", p.accountId, String(p.row.stripe_payout_id));
    expect(await post(event)).toEqual({ http: 200, status: "processed" });
    expect(await statusOf(p.row.id)).toMatchObject({ status: "paid" });
    expect((await payeeBalances(t.db, p.payeeId)).usd).toMatchObject({
      available: 0,
      in_transit: 0,
      paid: 3500,
    });
    expect(await post(event)).toEqual({ http: 200, status: "duplicate" });
    expect((await payeeBalances(t.db, p.payeeId)).usd).toMatchObject({
      available: 0,
      in_transit: 0,
      paid: 3500,
    });
    expect(await auditCount("payout.paid", p.row.id)).toBe(1);
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });

  it("payout.failed returns the funds to available with Stripe's code; redelivered, it does nothing more", async () => {
    const p = await paidPayee();
    ts.simulator.settlePayout(String(p.row.stripe_payout_id), "failed", "account_closed");
    const event = await payoutEvent("payout.failed", p.accountId, String(p.row.stripe_payout_id));
    expect(await post(event)).toEqual({ http: 200, status: "processed" });
    expect(await statusOf(p.row.id)).toEqual({ status: "failed", failure_code: "account_closed" });
    // Stripe's failed payout put the money back on the connected account
    expect((await payeeBalances(t.db, p.payeeId)).usd).toMatchObject({
      available: 3500,
      in_transit: 0,
      paid: 0,
    });
    expect(await post(event)).toEqual({ http: 200, status: "duplicate" });
    expect((await payeeBalances(t.db, p.payeeId)).usd).toMatchObject({ available: 3500, in_transit: 0 });
    expect(await auditCount("payout.failed", p.row.id)).toBe(1);
    const alerts = await queryRows(
      t.db,
      sql`select 1 from outbox_events where type = 'alert.payout_failed' and aggregate_id = ${String(p.row.id)}`,
    );
    expect(alerts.length).toBe(1);
  });

  it("payout.canceled fails the payout as canceled and returns the funds", async () => {
    const p = await paidPayee();
    ts.simulator.settlePayout(String(p.row.stripe_payout_id), "canceled");
    const event = await payoutEvent("payout.canceled", p.accountId, String(p.row.stripe_payout_id));
    expect(await post(event)).toEqual({ http: 200, status: "processed" });
    expect(await statusOf(p.row.id)).toMatchObject({ status: "failed", failure_code: "canceled" });
    expect((await payeeBalances(t.db, p.payeeId)).usd).toMatchObject({
      available: 3500,
      in_transit: 0,
      paid: 0,
    });
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });

  it("out of order: payout.failed arrives before the older payout.paid; the payout stays failed, the funds stay back", async () => {
    const p = await paidPayee();
    const po = String(p.row.stripe_payout_id);
    const now = Math.floor(Date.now() / 1000);
    ts.simulator.settlePayout(po, "failed", "account_closed");
    const failed = await payoutEvent("payout.failed", p.accountId, po, now);
    const paid = buildEvent(
      "payout.paid",
      "payout",
      { ...(failed.data.object as unknown as Record<string, unknown>), status: "paid", failure_code: null },
      { account: p.accountId, created: now - 60 },
    );
    expect(await post(failed)).toEqual({ http: 200, status: "processed" });
    expect(await post(paid)).toEqual({ http: 200, status: "processed" });
    expect(await statusOf(p.row.id)).toEqual({ status: "failed", failure_code: "account_closed" });
    expect((await payeeBalances(t.db, p.payeeId)).usd).toMatchObject({
      available: 3500,
      in_transit: 0,
      paid: 0,
    });
    expect(await auditCount("payout.paid", p.row.id)).toBe(0);
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });

  it("in order, paid then failed (the bank returned it): the money comes back from paid", async () => {
    const p = await paidPayee();
    const po = String(p.row.stripe_payout_id);
    ts.simulator.settlePayout(po, "paid");
    const paid = await payoutEvent("payout.paid", p.accountId, po);
    const failed = buildEvent(
      "payout.failed",
      "payout",
      {
        ...(paid.data.object as unknown as Record<string, unknown>),
        status: "failed",
        failure_code: "account_closed",
      },
      { account: p.accountId, created: paid.created + 60 },
    );
    expect(await post(paid)).toEqual({ http: 200, status: "processed" });
    expect(await post(failed)).toEqual({ http: 200, status: "processed" });
    expect(await statusOf(p.row.id)).toEqual({ status: "failed", failure_code: "account_closed" });
    expect((await payeeBalances(t.db, p.payeeId)).usd).toMatchObject({
      available: 3500,
      in_transit: 0,
      paid: 0,
    });
  });

  it("payout.paid beats the executor's own save: the payout stays paid and the executor backs off", async () => {
    let delivered: { http: number; status: string } | undefined;
    const p = await paidPayee({
      fault: async (point) => {
        if (point !== "afterPayoutCall") return;
        const created = ts.simulator
          .requests(0, 1_000_000)
          .filter((r) => r.endpoint === "POST /v1/payouts")
          .flatMap((r) => r.createdIds);
        const po = created.at(-1)!;
        const account = ts.simulator.requests(0, 1_000_000).find((r) => r.createdIds.includes(po))!.account!;
        ts.simulator.settlePayout(po, "paid");
        delivered = await post(await payoutEvent("payout.paid", account, po));
      },
    });
    expect(delivered).toEqual({ http: 200, status: "processed" });
    expect(p.result.outcomes).toMatchObject({ in_transit: 0, lost_lease: 1 });
    expect(await statusOf(p.row.id)).toMatchObject({ status: "paid" });
    expect((await payeeBalances(t.db, p.payeeId)).usd).toMatchObject({
      available: 0,
      in_transit: 0,
      paid: 3500,
    });
    expect(await auditCount("payout.in_transit", p.row.id)).toBe(0);
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });

  it("transfer.reversed moves each reversal's delta once, whatever the order the events come in", async () => {
    const p = await paidPayee();
    const tr = String(p.row.stripe_transfer_id);
    const transfer = (await ts.stripe.transfers.retrieve(tr)) as unknown as Record<string, unknown>;
    const reversedBy = (amount: number, created: number) =>
      buildEvent(
        "transfer.reversed",
        "transfer",
        { ...transfer, amount_reversed: amount, reversed: amount === transfer.amount },
        { created },
      );
    const now = Math.floor(Date.now() / 1000);
    const first = reversedBy(500, now - 60);
    const second = reversedBy(800, now);
    const platformAvailable = async () =>
      Number(
        (
          await queryRows<{ n: string }>(
            t.db,
            sql`select coalesce(sum(b.balance), 0) as n from ledger_balances b join ledger_accounts a on a.id = b.account_id
                where a.payee_id = ${p.payeeId} and a.kind = 'available' and a.location = 'platform'`,
          )
        )[0]!.n,
      );
    expect(await platformAvailable()).toBe(0);
    expect(await post(first)).toEqual({ http: 200, status: "processed" });
    expect(await platformAvailable()).toBe(500);
    expect(await post(second)).toEqual({ http: 200, status: "processed" });
    expect(await platformAvailable()).toBe(800);
    // redelivered, and the older one again under a new event id (out of order): nothing moves
    expect(await post(second)).toEqual({ http: 200, status: "duplicate" });
    expect(await post(reversedBy(500, now - 120))).toEqual({ http: 200, status: "processed" });
    expect(await platformAvailable()).toBe(800);
    const [row] = await queryRows<{ transfer_reversed_cents: string | number }>(
      t.db,
      sql`select transfer_reversed_cents from payouts where id = ${String(p.row.id)}`,
    );
    expect(Number(row!.transfer_reversed_cents)).toBe(800);
    // the money left the connected account: the payee owes it there
    const connected = await queryRows<{ n: string }>(
      t.db,
      sql`select coalesce(sum(b.balance), 0) as n from ledger_balances b join ledger_accounts a on a.id = b.account_id
          where a.payee_id = ${p.payeeId} and a.kind = 'available' and a.location = 'connected'`,
    );
    expect(Number(connected[0]!.n)).toBe(-800);
    const alerts = await queryRows(
      t.db,
      sql`select 1 from outbox_events where type = 'alert.transfer_reversed' and payload->>'payoutId' = ${String(p.row.id)}`,
    );
    expect(alerts.length).toBe(2);
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });
});
