import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET as getOne, POST as replayOne } from "@/app/api/v1/billing/replays/[eventId]/route";
import { GET as list } from "@/app/api/v1/billing/replays/route";
import { POST as sweep } from "@/app/internal/sweeps/webhook-replays/route";
import { closeAppDb } from "@/db/client";
import { issueLocalToken } from "@/lib/auth/user";
import { getEnv, resetEnvCache } from "@/lib/env";
import { createTestDb, type TestDb } from "../../support/db";
import { buildEvent, testWebhookSecrets } from "../../support/stripe-events";
import { deliver } from "../../integration/webhooks/helpers";

// Route level: the handlers reach the suite's database through getDb() (DATABASE_URL).
let t: TestDb;
const saved = { ...process.env };
const CRON = "cron-secret-for-replay-tests";
const base = "http://localhost:3000";

beforeAll(async () => {
  t = await createTestDb();
  Object.assign(process.env, testWebhookSecrets, { DATABASE_URL: t.url, CRON_SECRET_KEY: CRON });
  delete process.env.SUPABASE_URL;
  delete process.env.SUPABASE_JWT_SECRET;
  resetEnvCache();
  await closeAppDb();
});
afterAll(async () => {
  await closeAppDb();
  process.env = saved;
  resetEnvCache();
  await t.close();
});

const token = (role: "platform_admin" | "finance") => issueLocalToken({ userId: `${role}-user`, role }, getEnv());
const authed = async (url: string, role: "platform_admin" | "finance", init: { method?: string; body?: string } = {}) =>
  new NextRequest(url, { method: init.method ?? "GET", body: init.body, headers: { authorization: `Bearer ${await token(role)}` } });
const params = (eventId: string) => ({ params: Promise.resolve({ eventId }) });

describe("/api/v1/billing/replays", () => {
  it("lists, shows and replays for platform admins only", async () => {
    const event = buildEvent("invoice.paid", "invoice", { id: "in_route_unknown" });
    await deliver(t.db, event);

    const forbidden = await list(await authed(`${base}/api/v1/billing/replays`, "finance"), { params: Promise.resolve({}) });
    expect(forbidden.status).toBe(403);
    const anonymous = await list(new NextRequest(`${base}/api/v1/billing/replays`), { params: Promise.resolve({}) });
    expect(anonymous.status).toBe(401);

    const res = await list(await authed(`${base}/api/v1/billing/replays?status=pending&type=invoice.paid`, "platform_admin"), {
      params: Promise.resolve({}),
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.data.map((e: { eventId: string }) => e.eventId)).toContain(event.id);

    const bad = await list(await authed(`${base}/api/v1/billing/replays?status=nope`, "platform_admin"), {
      params: Promise.resolve({}),
    });
    expect(bad.status).toBe(400);

    const one = await getOne(await authed(`${base}/api/v1/billing/replays/${event.id}`, "platform_admin"), params(event.id));
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ eventId: event.id, status: "pending", attempts: 0, attemptCap: 5 });

    const replayed = await replayOne(
      await authed(`${base}/api/v1/billing/replays/${event.id}`, "platform_admin", { method: "POST", body: "{}" }),
      params(event.id),
    );
    expect(replayed.status).toBe(200);
    expect(await replayed.json()).toMatchObject({ status: "pending", event: { replayRequested: true, attempts: 0 } });

    const badBody = await replayOne(
      await authed(`${base}/api/v1/billing/replays/${event.id}`, "platform_admin", { method: "POST", body: '{"force":"yes"}' }),
      params(event.id),
    );
    expect(badBody.status).toBe(400);

    const missing = await getOne(await authed(`${base}/api/v1/billing/replays/evt_nope`, "platform_admin"), params("evt_nope"));
    expect(missing.status).toBe(404);
  });

  it("the hourly sweep answers processed, skipped, failed, remaining", async () => {
    const unauthorized = await sweep(new NextRequest(`${base}/internal/sweeps/webhook-replays`, { method: "POST" }), {
      params: Promise.resolve({}),
    });
    expect(unauthorized.status).toBe(401);
    const res = await sweep(
      new NextRequest(`${base}/internal/sweeps/webhook-replays`, { method: "POST", headers: { "x-cron-secret": CRON } }),
      { params: Promise.resolve({}) },
    );
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(Object.keys(body).sort()).toEqual(["failed", "processed", "remaining", "skipped"]);
    expect(body.skipped).toBeGreaterThanOrEqual(1); // the unknown invoice still waits
  });
});
