import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../db/client";
import { payouts } from "../../../db/schema";
import { fromDomainError } from "../../../lib/api/errors";
import { DomainError } from "../../../lib/errors";
import { payeeBalances, postLedgerTransaction } from "../../../lib/ledger";
import {
  getReplayEvent,
  listReplayEvents,
  MAX_APPLY_ATTEMPTS,
  requestReplay,
  storeStripeEvent,
  sweepWebhookReplays,
  type WebhookGateway,
} from "../../../lib/webhooks";
import { createTestDb, type TestDb } from "../../support/db";
import { buildEvent } from "../../support/stripe-events";
import { accountUpdated, createPayeeWithAccount, deliver, eventRow, handlerEnv } from "./helpers";
import { fakeGateway } from "../../support/stripe";

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(() => t.close());

const noCharge = async () => {
  throw new Error("this event should not read a charge");
};
const failingStripe = (): WebhookGateway =>
  fakeGateway({
    setManualPayoutSchedule: async () => {
      throw new Error("Stripe is down");
    },
    retrieveCharge: noCharge,
  });
const okStripe = (): WebhookGateway =>
  fakeGateway({ setManualPayoutSchedule: async () => ({}), retrieveCharge: noCharge });
const sweep = (gateway: () => WebhookGateway = okStripe) =>
  sweepWebhookReplays(t.db, { env: handlerEnv, gateway, timeBudgetMs: 30_000 });
const admin = { type: "user" as const, id: "admin-1", role: "platform_admin" as const };

describe("payout events", () => {
  it("a payout event before the payout's Stripe id is stored waits, then the sweep applies it once", async () => {
    const { payeeId, connectedAccountId } = await createPayeeWithAccount(t.db, "acct_payout_1");
    await postLedgerTransaction(t.db, {
      idempotencyKey: "seed-payout-1",
      kind: "earning",
      description: "seed",
      currency: "usd",
      payeeId,
      lines: [
        { kind: "stripe_clearing", amount: -5_000 },
        // a payout Stripe has made: its money is on its way to the bank
        { payeeId, kind: "in_transit", location: "bank", amount: 5_000 },
      ],
    });
    const [payout] = await t.db
      .insert(payouts)
      .values({
        payeeId,
        connectedAccountId,
        stripeAccountId: "acct_payout_1",
        amountCents: 5_000,
        currency: "usd",
        status: "in_transit",
      })
      .returning();
    const event = buildEvent(
      "payout.paid",
      "payout",
      { id: "po_later_known", amount: 5_000, status: "paid", metadata: {} },
      { account: "acct_payout_1" },
    );
    expect(await deliver(t.db, event)).toMatchObject({ status: "pending" });
    expect(await eventRow(t.db, event.id)).toMatchObject({ status: "pending" });

    await t.db.update(payouts).set({ stripePayoutId: "po_later_known" }).where(eq(payouts.id, payout!.id));
    const first = await sweep();
    expect(first.processed).toBeGreaterThanOrEqual(1);
    expect(await eventRow(t.db, event.id)).toMatchObject({ status: "processed" });
    expect((await t.db.select().from(payouts).where(eq(payouts.id, payout!.id)))[0]).toMatchObject({
      status: "paid",
    });
    expect((await payeeBalances(t.db, payeeId)).usd).toMatchObject({ in_transit: 0, paid: 5_000 });
    expect(await deliver(t.db, event)).toMatchObject({ status: "duplicate" });
  });
});

describe("crash between storing and applying", () => {
  it("a stored, never-applied event is applied exactly once by the replay sweep", async () => {
    await createPayeeWithAccount(t.db, "acct_crash");
    const event = accountUpdated("acct_crash", { charges_enabled: true });
    // The process stored the event and died before applying it.
    await storeStripeEvent(t.db, event, { source: "webhook" });
    const fresh = await sweep();
    expect(fresh.processed).toBe(0); // younger than a minute: an in-flight delivery may still apply it
    await t.db.execute(
      sql`update processor_events set received_at = now() - interval '5 minutes' where event_id = ${event.id}`,
    );
    await sweep();
    await sweep();
    expect(await eventRow(t.db, event.id)).toMatchObject({ status: "processed" });
    const audits = await queryRows(
      t.db,
      sql`select 1 from audit_log where actor_id = ${event.id} and action = 'connected_account.updated'`,
    );
    expect(audits).toHaveLength(1);
  });
});

describe("failures, replay requests and the attempt cap", () => {
  it("a failed apply answers failed (500), rolls its effect back and records the attempt", async () => {
    await createPayeeWithAccount(t.db, "acct_fail");
    const event = accountUpdated("acct_fail", {
      charges_enabled: true,
      settings: { payouts: { schedule: { interval: "weekly" } } },
    });
    expect(await deliver(t.db, event, { gateway: failingStripe })).toMatchObject({ status: "failed" });
    expect(await eventRow(t.db, event.id)).toMatchObject({
      status: "failed",
      attempts: 1,
      last_error: "Stripe is down",
    });
    const [acct] = await queryRows<{ charges_enabled: boolean }>(
      t.db,
      sql`select charges_enabled from connected_accounts where stripe_account_id = 'acct_fail'`,
    );
    expect(acct!.charges_enabled).toBe(false);
    // Stripe's retry applies it.
    expect(await deliver(t.db, event, { gateway: okStripe })).toMatchObject({ status: "processed" });
  });

  it("lists and shows failed events; a replay request past the cap needs force", async () => {
    await createPayeeWithAccount(t.db, "acct_cap");
    const event = accountUpdated("acct_cap", { settings: { payouts: { schedule: { interval: "daily" } } } });
    await deliver(t.db, event, { gateway: failingStripe });
    for (let i = 1; i < MAX_APPLY_ATTEMPTS; i++) {
      const r = await requestReplay(t.db, event.id, {
        force: false,
        actor: admin,
        env: handlerEnv,
        gateway: failingStripe,
      });
      expect(r.result.status).toBe("failed");
    }
    const shown = await getReplayEvent(t.db, event.id);
    expect(shown).toMatchObject({
      status: "failed",
      attempts: MAX_APPLY_ATTEMPTS,
      replayRequested: true,
      lastReplayError: "Stripe is down",
    });
    expect(shown.attemptLog).toHaveLength(MAX_APPLY_ATTEMPTS);
    expect(shown.attemptLog[1]).toMatchObject({
      trigger: "replay_request",
      outcome: "failed",
      actor: "user:admin-1",
    });

    // The sweep respects the cap.
    const swept = await sweep(okStripe);
    expect(await eventRow(t.db, event.id)).toMatchObject({ status: "failed" });
    expect(swept.processed).toBe(0);

    const refused = await requestReplay(t.db, event.id, {
      force: false,
      actor: admin,
      env: handlerEnv,
      gateway: okStripe,
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DomainError);
    expect(fromDomainError(refused as DomainError).status).toBe(409);

    const listed = await listReplayEvents(t.db, { status: "failed", type: "account.updated", limit: 50 });
    expect(listed.data.map((e) => e.eventId)).toContain(event.id);

    const forced = await requestReplay(t.db, event.id, {
      force: true,
      actor: admin,
      env: handlerEnv,
      gateway: okStripe,
    });
    expect(forced.result.status).toBe("processed");
    expect(forced.event).toMatchObject({ status: "processed", replayRequested: false });
    const again = await requestReplay(t.db, event.id, {
      force: true,
      actor: admin,
      env: handlerEnv,
      gateway: okStripe,
    }).catch((e: unknown) => e);
    expect(fromDomainError(again as DomainError).status).toBe(409);
  });

  it("paginates the list", async () => {
    for (let i = 0; i < 3; i++)
      await deliver(t.db, buildEvent("invoice.paid", "invoice", { id: `in_unknown_${i}` }));
    const page1 = await listReplayEvents(t.db, { status: "pending", type: "invoice.paid", limit: 2 });
    expect(page1.data).toHaveLength(2);
    expect(page1.nextCursor).not.toBeNull();
    const page2 = await listReplayEvents(t.db, {
      status: "pending",
      type: "invoice.paid",
      limit: 2,
      cursor: page1.nextCursor!,
    });
    expect(page2.data).toHaveLength(1);
    expect(page2.nextCursor).toBeNull();
  });

  it("a forced replay past the cap that fails is retried by the sweep until it applies", async () => {
    await createPayeeWithAccount(t.db, "acct_forced");
    const event = accountUpdated("acct_forced", {
      settings: { payouts: { schedule: { interval: "weekly" } } },
    });
    await deliver(t.db, event, { gateway: failingStripe });
    for (let i = 1; i < MAX_APPLY_ATTEMPTS; i++) await sweep(failingStripe);
    expect(await eventRow(t.db, event.id)).toMatchObject({ status: "failed", attempts: MAX_APPLY_ATTEMPTS });
    const forced = await requestReplay(t.db, event.id, {
      force: true,
      actor: admin,
      env: handlerEnv,
      gateway: failingStripe,
    });
    expect(forced.result.status).toBe("failed");
    await sweep(okStripe);
    expect(await eventRow(t.db, event.id)).toMatchObject({ status: "processed", replay_requested: false });
  });
});
