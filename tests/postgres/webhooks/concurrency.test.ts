import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST } from "@/app/webhooks/stripe/route";
import { closeAppDb, queryRows } from "@/db/client";
import { resetEnvCache } from "@/lib/env";
import { payeeBalances } from "@/lib/ledger";
import type { WebhookGateway } from "@/lib/webhooks/types";
import { accountUpdated, createPayeeWithAccount, deliver } from "../../integration/webhooks/helpers";
import { createTestDb, type TestDb } from "../../support/db";
import { buildEvent, signedDelivery, testWebhookSecrets, webhookRequest } from "../../support/stripe-events";
import { fakeGateway } from "../../support/stripe";

// Only a real server can race deliveries: PGlite has one connection.
let t: TestDb;
let payeeId: string;
const saved = { ...process.env };

beforeAll(async () => {
  t = await createTestDb();
  ({ payeeId } = await createPayeeWithAccount(t.db, "acct_race"));
  Object.assign(process.env, testWebhookSecrets, { DATABASE_URL: t.url, PAYOUT_RESERVE_PERCENT: "0" });
  resetEnvCache();
  await closeAppDb();
});
afterAll(async () => {
  await closeAppDb();
  process.env = saved;
  resetEnvCache();
  await t.close();
});

const earning = (pi: string) =>
  buildEvent("payment_intent.succeeded", "payment_intent", {
    id: pi,
    amount: 4_000,
    amount_received: 4_000,
    application_fee_amount: 400,
    currency: "usd",
    latest_charge: `ch_${pi}`,
    transfer_data: { destination: "acct_race" },
  });

describe("concurrent deliveries", () => {
  it("ten concurrent deliveries of one event (ten connections) apply it once", async () => {
    const pool = t.connect(10);
    const event = earning("pi_race_lib");
    const results = await Promise.all(Array.from({ length: 10 }, () => deliver(pool.db, event)));
    expect(results.filter((r) => r.status === "processed")).toHaveLength(1);
    expect(results.filter((r) => r.status === "duplicate")).toHaveLength(9);
    expect((await payeeBalances(t.db, payeeId)).usd!.available).toBe(3_600);
    await pool.close();
  });

  it("ten concurrent deliveries of one account.updated apply it once: one audit row", async () => {
    const pool = t.connect(10);
    const event = accountUpdated(
      "acct_race",
      { details_submitted: true },
      { created: Math.floor(Date.now() / 1000) - 60 },
    );
    const results = await Promise.all(Array.from({ length: 10 }, () => deliver(pool.db, event)));
    expect(results.filter((r) => r.status === "processed")).toHaveLength(1);
    expect(results.filter((r) => r.status === "duplicate")).toHaveLength(9);
    const audits = await queryRows(t.db, sql`select 1 from audit_log where actor_id = ${event.id}`);
    expect(audits).toHaveLength(1);
    await pool.close();
  });

  it("concurrent account.updated events of one account: the newest state wins, each audit's before is the state it replaced", async () => {
    await createPayeeWithAccount(t.db, "acct_race_order");
    const pool = t.connect(10);
    const base = Math.floor(Date.now() / 1000) - 30;
    // Event i is i seconds newer; only the newest says payouts are enabled.
    const events = Array.from({ length: 10 }, (_, i) =>
      accountUpdated("acct_race_order", { payouts_enabled: i === 9 }, { created: base + i }),
    );
    const results = await Promise.all(events.map((e) => deliver(pool.db, e)));
    expect(results.every((r) => r.status === "processed")).toBe(true);
    const [account] = await queryRows<{ payouts_enabled: boolean; stripe_state_at: Date | string }>(
      t.db,
      sql`select payouts_enabled, stripe_state_at from connected_accounts where stripe_account_id = 'acct_race_order'`,
    );
    expect(account!.payouts_enabled).toBe(true);
    expect(new Date(account!.stripe_state_at).getTime()).toBe((base + 9) * 1000);
    const audits = await queryRows<{
      before: { stripe_state_at: string | null };
      after: { stripe_state_at: string };
    }>(
      t.db,
      sql`select before, after from audit_log where entity_id = 'acct_race_order' and action = 'connected_account.updated' order by id`,
    );
    expect(audits.length).toBeGreaterThanOrEqual(1);
    let previous: string | null = null;
    for (const audit of audits) {
      // Applied in commit order, each over the one before it: never over a newer state.
      expect(
        audit.before.stripe_state_at === null ? null : new Date(audit.before.stripe_state_at).toISOString(),
      ).toBe(previous);
      expect(previous === null || new Date(audit.after.stripe_state_at) >= new Date(previous)).toBe(true);
      previous = new Date(audit.after.stripe_state_at).toISOString();
    }
    await pool.close();
  });

  it("ten concurrent deliveries of an event whose handler throws: all answered failed, stored once, nothing applied", async () => {
    await createPayeeWithAccount(t.db, "acct_race_fail");
    const pool = t.connect(10);
    const failing = (): WebhookGateway =>
      fakeGateway({
        setManualPayoutSchedule: async () => {
          throw new Error("Stripe is down");
        },
        retrieveCharge: async () => ({}),
      });
    const event = accountUpdated("acct_race_fail", {
      settings: { payouts: { schedule: { interval: "daily" } } },
    });
    const results = await Promise.all(
      Array.from({ length: 10 }, () => deliver(pool.db, event, { gateway: failing })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill("failed"));
    const rows = await queryRows<{ status: string; attempts: number }>(
      t.db,
      sql`select status, attempts from processor_events where event_id = ${event.id}`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe("failed");
    expect(rows[0]!.attempts).toBeGreaterThanOrEqual(1);
    expect(await queryRows(t.db, sql`select 1 from audit_log where actor_id = ${event.id}`)).toHaveLength(0);
    await pool.close();
  });

  it("through the route on the real server: ten concurrent POSTs answer processed once, duplicate nine times", async () => {
    const event = earning("pi_race_route");
    const { body, signature } = signedDelivery(event);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => POST(webhookRequest(body, signature))),
    );
    const bodies = await Promise.all(responses.map((r) => r.json()));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(bodies.filter((b) => b.status === "processed")).toHaveLength(1);
    expect(bodies.filter((b) => b.status === "duplicate")).toHaveLength(9);
    expect((await payeeBalances(t.db, payeeId)).usd!.available).toBe(7_200);
    const [row] = await queryRows<{ n: string }>(
      t.db,
      sql`select count(*) as n from ledger_transactions where idempotency_key = 'earning:pi_race_route'`,
    );
    expect(Number(row!.n)).toBe(1);
  });

  it("route: an account event, its duplicate, an unknown type, and a failed apply answer 200/200/200/500", async () => {
    const event = accountUpdated("acct_race", { payouts_enabled: true });
    const first = signedDelivery(event);
    const r1 = await POST(webhookRequest(first.body, first.signature));
    expect([r1.status, await r1.json()]).toEqual([200, { status: "processed" }]);
    const r2 = await POST(webhookRequest(first.body, first.signature));
    expect(await r2.json()).toEqual({ status: "duplicate" });
    const unknown = signedDelivery(buildEvent("plan.created", "plan"));
    expect(await (await POST(webhookRequest(unknown.body, unknown.signature))).json()).toEqual({
      status: "ignored",
    });
    // A schedule reset with Stripe unreachable fails the apply: 500, so Stripe delivers it again.
    process.env.STRIPE_API_BASE_URL = "http://127.0.0.1:9";
    resetEnvCache();
    const { resetStripeClient } = await import("@/lib/stripe/client");
    resetStripeClient();
    const failing = signedDelivery(
      accountUpdated("acct_race", { settings: { payouts: { schedule: { interval: "daily" } } } }),
    );
    const r4 = await POST(webhookRequest(failing.body, failing.signature));
    expect(r4.status).toBe(500);
  });
});
