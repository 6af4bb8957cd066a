import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../db/client";
import { fromDomainError } from "../../../lib/api/errors";
import { DomainError } from "../../../lib/errors";
import { ingestStripeEvent, receiveStripeWebhook } from "../../../lib/webhooks/ingest";
import type { StripeEvent, WebhookGateway } from "../../../lib/webhooks/types";
import { createTestDb, type TestDb } from "../../support/db";
import { fakeGateway } from "../../support/stripe";
import {
  buildEvent,
  signedDelivery,
  signPayload,
  TEST_CONNECT_SECRET_PREVIOUS,
  TEST_WEBHOOK_SECRET,
  TEST_WEBHOOK_SECRET_PREVIOUS,
  testWebhookSecrets,
} from "../../support/stripe-events";
import {
  accountUpdated,
  countRows,
  createPayeeWithAccount,
  deliver,
  eventRow,
  handlerEnv,
  noStripe,
} from "./helpers";

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(() => t.close());

const receive = (rawBody: string, signature: string | null) =>
  receiveStripeWebhook(
    t.db,
    { rawBody, signature },
    { env: handlerEnv, gateway: noStripe, secrets: testWebhookSecrets },
  );

async function expectRefused(rawBody: string, signature: string | null, code: string) {
  const before = await countRows(t.db, "processor_events");
  const error = await receive(rawBody, signature).then(
    () => null,
    (e: unknown) => e,
  );
  // A domain error; lib/api answers it with this code and 400.
  expect(error).toBeInstanceOf(DomainError);
  const answer = fromDomainError(error as DomainError);
  expect(answer.code).toBe(code);
  expect(answer.status).toBe(400);
  expect(await countRows(t.db, "processor_events")).toBe(before);
}

describe("webhook intake: signatures", () => {
  it("refuses a missing signature and writes nothing", async () => {
    const { body } = signedDelivery(buildEvent("account.updated", "account"));
    await expectRefused(body, null, "invalid_signature");
  });

  it("refuses a signature made with an unknown secret", async () => {
    const body = JSON.stringify(buildEvent("account.updated", "account"));
    await expectRefused(body, signPayload(body, "whsec_not_ours"), "invalid_signature");
  });

  it("refuses a stale timestamp (older than 300 s)", async () => {
    const body = JSON.stringify(buildEvent("account.updated", "account"));
    const stale = Math.floor(Date.now() / 1000) - 301;
    await expectRefused(body, signPayload(body, TEST_WEBHOOK_SECRET, stale), "invalid_signature");
  });

  it("refuses a tampered body", async () => {
    const { body, signature } = signedDelivery(buildEvent("payment_intent.succeeded", "payment_intent"));
    await expectRefused(body.replace('"amount":1099', '"amount":9999'), signature, "invalid_signature");
  });

  it("refuses a correctly signed body that is not JSON, or not an event", async () => {
    const notJson = "{ this is not json";
    await expectRefused(notJson, signPayload(notJson, TEST_WEBHOOK_SECRET), "invalid_json");
    const notEvent = JSON.stringify({ hello: "world" });
    await expectRefused(notEvent, signPayload(notEvent, TEST_WEBHOOK_SECRET), "bad_request");
  });

  it("accepts the previous secrets during a rotation, platform and Connect", async () => {
    const platform = buildEvent("customer.created", "customer");
    const body = JSON.stringify(platform);
    expect((await receive(body, signPayload(body, TEST_WEBHOOK_SECRET_PREVIOUS))).status).toBe("ignored");

    const connect = buildEvent("customer.created", "customer", {}, { account: "acct_rotated" });
    const connectBody = JSON.stringify(connect);
    expect((await receive(connectBody, signPayload(connectBody, TEST_CONNECT_SECRET_PREVIOUS))).status).toBe(
      "ignored",
    );
    expect((await eventRow(t.db, connect.id))?.status).toBe("ignored");
  });
});

describe("webhook intake: storing", () => {
  it("stores a type Payrun does not use as ignored, and a second delivery is a duplicate", async () => {
    const event = buildEvent("plan.created", "plan");
    expect(await deliver(t.db, event)).toMatchObject({ status: "ignored" });
    expect(await deliver(t.db, event)).toMatchObject({ status: "duplicate" });
    expect(await eventRow(t.db, event.id)).toMatchObject({ status: "ignored" });
  });

  it("applies an event once; a redelivery answers duplicate and changes nothing", async () => {
    const acct = "acct_intake_dup";
    await createPayeeWithAccount(t.db, acct);
    const event = accountUpdated(acct, { charges_enabled: true });
    expect(await deliver(t.db, event)).toMatchObject({ status: "processed" });
    const audits = await countRows(t.db, "audit_log");
    expect(await deliver(t.db, { ...event, pending_webhooks: 3 })).toMatchObject({ status: "duplicate" });
    expect(await countRows(t.db, "audit_log")).toBe(audits);
  });

  it("flags the same id with a different payload, keeps the first and never applies it twice", async () => {
    const acct = "acct_intake_conflict";
    await createPayeeWithAccount(t.db, acct);
    const event = accountUpdated(acct, { payouts_enabled: false });
    await deliver(t.db, event);
    const forged = {
      ...event,
      data: { object: { ...event.data.object, payouts_enabled: true } },
    } as unknown as StripeEvent;
    expect(await deliver(t.db, forged)).toMatchObject({ status: "duplicate", conflict: true });
    expect(await eventRow(t.db, event.id)).toMatchObject({ status: "processed" });
    const alerts = await queryRows(
      t.db,
      sql`select * from outbox_events where type = 'alert.processor_event_conflict'`,
    );
    expect(alerts).toHaveLength(1);
    const [account] = await queryRows<{ payouts_enabled: boolean }>(
      t.db,
      sql`select payouts_enabled from connected_accounts where stripe_account_id = ${acct}`,
    );
    expect(account!.payouts_enabled).toBe(false);
  });
});

describe("webhook intake: the first delivery is stored and applied in one transaction", () => {
  /** What the event's row says, whether it has processed_at, and its attempt rows. */
  async function stored(eventId: string) {
    const [row] = await queryRows<{
      status: string;
      attempts: number;
      last_error: string | null;
      processed: boolean;
    }>(
      t.db,
      sql`select status, attempts, last_error, processed_at is not null as processed
          from processor_events where event_id = ${eventId}`,
    );
    const attemptLog = await queryRows<{ trigger: string; outcome: string; error: string | null }>(
      t.db,
      sql`select a.trigger, a.outcome, a.error from processor_event_attempts a
          join processor_events e on e.id = a.processor_event_id where e.event_id = ${eventId} order by a.id`,
    );
    return { ...row, attemptLog };
  }

  it("applied: one row, processed, with processed_at and no attempt row", async () => {
    await createPayeeWithAccount(t.db, "acct_first_ok");
    const event = accountUpdated("acct_first_ok", { charges_enabled: true });
    expect(await deliver(t.db, event)).toEqual({ status: "processed", eventId: event.id });
    expect(await stored(event.id)).toEqual({
      status: "processed",
      attempts: 0,
      last_error: null,
      processed: true,
      attemptLog: [],
    });
  });

  it("a handler that throws: rolled back, then stored as failed with the one attempt it made, answered failed", async () => {
    await createPayeeWithAccount(t.db, "acct_first_fail");
    let calls = 0;
    const gateway = (fail: boolean) => (): WebhookGateway =>
      fakeGateway({
        setManualPayoutSchedule: async () => {
          calls++;
          if (fail) throw new Error("Stripe is down");
          return {};
        },
        retrieveCharge: async () => ({}),
      });
    const event = accountUpdated("acct_first_fail", {
      charges_enabled: true,
      settings: { payouts: { schedule: { interval: "daily" } } },
    });
    expect(await deliver(t.db, event, { gateway: gateway(true) })).toEqual({
      status: "failed",
      eventId: event.id,
      error: "Stripe is down",
    });
    expect(calls).toBe(1); // the handler is not run a second time to find out it fails
    expect(await stored(event.id)).toEqual({
      status: "failed",
      attempts: 1,
      last_error: "Stripe is down",
      processed: false,
      attemptLog: [{ trigger: "webhook", outcome: "failed", error: "Stripe is down" }],
    });
    // Nothing of the rolled-back attempt is left: no audit row, no change to the account.
    expect(await queryRows(t.db, sql`select 1 from audit_log where actor_id = ${event.id}`)).toHaveLength(0);
    const [account] = await queryRows<{ charges_enabled: boolean }>(
      t.db,
      sql`select charges_enabled from connected_accounts where stripe_account_id = 'acct_first_fail'`,
    );
    expect(account!.charges_enabled).toBe(false);

    // Stripe's redelivery takes the stored path and applies it.
    expect(await deliver(t.db, event, { gateway: gateway(false) })).toMatchObject({ status: "processed" });
    expect(await stored(event.id)).toMatchObject({ status: "processed", attempts: 1, processed: true });
  });

  it("pending: stored pending, without processed_at, with one attempt row", async () => {
    const event = buildEvent("payment_intent.succeeded", "payment_intent", {
      amount_received: 1_000,
      transfer_data: { destination: "acct_first_unknown" },
    });
    const reason = "connected account acct_first_unknown not known yet";
    expect(await deliver(t.db, event)).toMatchObject({ status: "pending" });
    expect(await stored(event.id)).toEqual({
      status: "pending",
      attempts: 0,
      last_error: reason,
      processed: false,
      attemptLog: [{ trigger: "webhook", outcome: "pending", error: reason }],
    });
  });

  it("ignored by its handler: stored ignored, with processed_at; a redelivery is a duplicate", async () => {
    const event = buildEvent("payment_intent.succeeded", "payment_intent", { transfer_data: null });
    expect(await deliver(t.db, event)).toMatchObject({ status: "ignored" });
    expect(await stored(event.id)).toMatchObject({ status: "ignored", processed: true, attemptLog: [] });
    expect(await deliver(t.db, event)).toMatchObject({ status: "duplicate" });
  });

  it("a backfill's first delivery still records its attempt", async () => {
    await createPayeeWithAccount(t.db, "acct_first_backfill");
    const event = accountUpdated("acct_first_backfill", { payouts_enabled: true });
    const result = await ingestStripeEvent(t.db, event, {
      env: handlerEnv,
      gateway: noStripe,
      source: "events_api_backfill",
      trigger: "backfill",
    });
    expect(result).toEqual({ status: "processed", eventId: event.id });
    expect((await stored(event.id)).attemptLog).toEqual([
      { trigger: "backfill", outcome: "processed", error: null },
    ]);
  });
});
