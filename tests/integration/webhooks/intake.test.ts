import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "../../../lib/api/errors";
import { receiveStripeWebhook } from "../../../lib/webhooks/ingest";
import { createTestDb, type TestDb } from "../../support/db";
import {
  buildEvent,
  signPayload,
  signedDelivery,
  TEST_CONNECT_SECRET_PREVIOUS,
  TEST_WEBHOOK_SECRET,
  TEST_WEBHOOK_SECRET_PREVIOUS,
  testWebhookSecrets,
} from "../../support/stripe-events";
import { accountUpdated, countRows, createPayeeWithAccount, deliver, eventRow, handlerEnv, noStripe } from "./helpers";

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(() => t.close());

const receive = (rawBody: string, signature: string | null) =>
  receiveStripeWebhook(t.db, { rawBody, signature }, { env: handlerEnv, gateway: noStripe, secrets: testWebhookSecrets });

async function expectRefused(rawBody: string, signature: string | null, code: string) {
  const before = await countRows(t.db, "processor_events");
  const error = await receive(rawBody, signature).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  expect((error as ApiError).code).toBe(code);
  expect((error as ApiError).status).toBe(400);
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
    expect((await receive(connectBody, signPayload(connectBody, TEST_CONNECT_SECRET_PREVIOUS))).status).toBe("ignored");
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
    const forged = { ...event, data: { object: { ...event.data.object, payouts_enabled: true } } };
    expect(await deliver(t.db, forged)).toMatchObject({ status: "duplicate", conflict: true });
    expect(await eventRow(t.db, event.id)).toMatchObject({ status: "processed" });
    const { queryRows } = await import("../../../db/client");
    const { sql } = await import("drizzle-orm");
    const alerts = await queryRows(t.db, sql`select * from outbox_events where type = 'alert.processor_event_conflict'`);
    expect(alerts).toHaveLength(1);
    const [account] = await queryRows<{ payouts_enabled: boolean }>(
      t.db,
      sql`select payouts_enabled from connected_accounts where stripe_account_id = ${acct}`,
    );
    expect(account!.payouts_enabled).toBe(false);
  });
});
