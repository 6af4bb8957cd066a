import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { POST as pauseRoute } from "@/app/internal/payouts/pause/route";
import { resetEnvCache } from "@/lib/env";
import { createTestDb, type TestDb } from "../../support/db";
import { signQStash } from "../../support/qstash";
import { CRON_SECRET, internalRequest, routeCtx } from "./helpers";
import { configureApp } from "../../support/app";

// Issue 11, item 8: a QStash-signed request replayed within its validity window was applied twice.
// A delivery that succeeded is remembered (its signature's jti and its Upstash-Message-Id); a later
// request with either is answered as the first was, without the work. A failed one is not: QStash's
// retry of it is applied. X-Cron-Secret calls have no message id and are not affected.

const BASE = "https://payrun.example.com";
const CURRENT = "sig_current_test_key";
const NEXT = "sig_next_test_key";
const saved = { ...process.env };

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
  Object.assign(process.env, {
    CRON_SECRET_KEY: CRON_SECRET,
    APP_BASE_URL: BASE,
    QSTASH_CURRENT_SIGNING_KEY: CURRENT,
    QSTASH_NEXT_SIGNING_KEY: NEXT,
  });
  configureApp(t.db);
});
afterAll(async () => {
  process.env = saved;
  resetEnvCache();
  await t.close();
});

const pauses = async () =>
  Number(
    (
      await queryRows<{ n: string }>(
        t.db,
        sql`select count(*) as n from audit_log where action = 'payouts.paused'`,
      )
    )[0]!.n,
  );

function qstashRequest(body: string, headers: Record<string, string>) {
  return new NextRequest("http://127.0.0.1:9/internal/payouts/pause", {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });
}
const pause = (req: NextRequest) => pauseRoute(req, routeCtx() as never);
const PAUSE_URL = `${BASE}/internal/payouts/pause`;

/** A delivery of message `messageId` as QStash makes one: a fresh signature with `key`. */
const delivery = (body: string, messageId: string, options: { key?: string; retried?: number } = {}) =>
  pause(
    qstashRequest(body, {
      "upstash-signature": signQStash(options.key ?? CURRENT, PAUSE_URL, body),
      "upstash-message-id": messageId,
      ...(options.retried ? { "upstash-retried": String(options.retried) } : {}),
    }),
  );

describe("QStash deliveries are applied once", () => {
  it("a replayed signed request is answered as the first time, whatever its message id header says", async () => {
    const body = JSON.stringify({ reason: "replay drill" });
    const signature = signQStash(CURRENT, PAUSE_URL, body);
    const messageId = `msg_${randomUUID()}`;
    const before = await pauses();

    const first = await pause(
      qstashRequest(body, { "upstash-signature": signature, "upstash-message-id": messageId }),
    );
    expect(first.status).toBe(200);
    const answer = await first.json();
    expect(await pauses()).toBe(before + 1);

    for (const headers of [
      { "upstash-signature": signature, "upstash-message-id": messageId },
      { "upstash-signature": signature, "upstash-message-id": `msg_${randomUUID()}` },
      { "upstash-signature": signature },
    ] as Record<string, string>[]) {
      const replay = await pause(qstashRequest(body, headers));
      expect(replay.status).toBe(200);
      expect(replay.headers.get("payrun-duplicate")).toBe("true");
      expect(await replay.json()).toEqual(answer);
    }
    expect(await pauses()).toBe(before + 1);
  });

  it("QStash delivering a completed message again (new signature, same id) is not applied again", async () => {
    const body = JSON.stringify({ reason: "redelivery" });
    const messageId = `msg_${randomUUID()}`;
    const before = await pauses();
    const first = await delivery(body, messageId);
    expect(first.status).toBe(200);
    const again = await delivery(body, messageId, { key: NEXT, retried: 1 });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(await first.json());
    expect(await pauses()).toBe(before + 1);
  });

  it("a delivery that failed is not remembered: QStash's retry of it is applied", async () => {
    const messageId = `msg_${randomUUID()}`;
    const failed = await delivery(JSON.stringify({ reason: 42 }), messageId);
    expect(failed.status).toBe(400);
    const before = await pauses();
    const retried = await delivery(JSON.stringify({ reason: "retried" }), messageId, { retried: 1 });
    expect(retried.status).toBe(200);
    expect(retried.headers.get("payrun-duplicate")).toBeNull();
    expect(await pauses()).toBe(before + 1);
  });

  it("the signature must name our URL, and X-Cron-Secret calls are applied every time", async () => {
    const body = JSON.stringify({ reason: "elsewhere" });
    const foreign = signQStash(CURRENT, "https://someone-else.example/internal/payouts/pause", body);
    expect(
      (
        await pause(
          qstashRequest(body, { "upstash-signature": foreign, "upstash-message-id": `msg_${randomUUID()}` }),
        )
      ).status,
    ).toBe(401);

    const before = await pauses();
    for (let i = 0; i < 2; i++) {
      expect(
        (await pause(internalRequest("POST", "/internal/payouts/pause", { reason: "ops" }))).status,
      ).toBe(200);
    }
    expect(await pauses()).toBe(before + 2);
  });
});
