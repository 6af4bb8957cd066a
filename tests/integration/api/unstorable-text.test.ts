import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as holdsRoute from "@/app/api/v1/escrow-holds/route";
import * as payeeRoute from "@/app/api/v1/payees/[id]/route";
import * as payeesRoute from "@/app/api/v1/payees/route";
import * as placementRoute from "@/app/api/v1/placements/[id]/route";
import * as placementsRoute from "@/app/api/v1/placements/route";
import { POST as pauseRoute } from "@/app/internal/payouts/pause/route";
import { POST as resumeRoute } from "@/app/internal/payouts/resume/route";
import { queryRows } from "@/db/client";
import { receiveStripeWebhook } from "@/lib/webhooks/ingest";
import { apiRequest, routeParams, tokenFor } from "../../support/auth";
import { createTestDb, type TestDb } from "../../support/db";
import { buildEvent, signedDelivery, testWebhookSecrets } from "../../support/stripe-events";
import { CRON_SECRET, internalRequest } from "../payouts/helpers";
import { deliver, eventRow, handlerEnv, noStripe } from "../webhooks/helpers";
import { configureApp } from "../../support/app";

// Text Postgres cannot store (a NUL, a lone surrogate) and dates it cannot hold used to pass
// validation and fail at the insert: a 500. Every edge now answers 400 naming the field, before any
// write; a signed Stripe event carrying such text is stored with it made storable.

const NUL = "a\u0000b";
const LONE = "a\ud800b";

let t: TestDb;
let admin: string;
let payeeId: string;
let placementId: string;
const noParams = routeParams({}) as never;
const auditRows = async () =>
  Number((await queryRows<{ n: string }>(t.db, sql`select count(*) as n from audit_log`))[0]!.n);

beforeAll(async () => {
  t = await createTestDb();
  process.env.CRON_SECRET_KEY = CRON_SECRET;
  configureApp(t.db);
  admin = await tokenFor("platform_admin");
  const payee = await payeesRoute.POST(
    apiRequest("POST", "/api/v1/payees", {
      token: admin,
      body: { displayName: "Nora", email: "nora@example.com" },
    }),
    noParams,
  );
  payeeId = ((await payee.json()) as { id: string }).id;
  const placement = await placementsRoute.POST(
    apiRequest("POST", "/api/v1/placements", { token: admin, body: placementBody() }),
    noParams,
  );
  expect(placement.status).toBe(201);
  placementId = ((await placement.json()) as { id: string }).id;
});
afterAll(() => t.close());

function placementBody(patch: Record<string, unknown> = {}) {
  return {
    payeeId,
    clientStripeCustomerId: "cus_text",
    feeCents: 10_000,
    payeeShareCents: 5_000,
    currency: "usd",
    startDate: "2026-11-01",
    guaranteeDays: 90,
    ...patch,
  };
}

async function expectRefused(res: Response, field: string) {
  expect(res.status).toBe(400);
  const body = (await res.json()) as {
    error: { code: string; message: string; details: { path: string }[] };
  };
  expect(body.error.code).toBe("bad_request");
  expect(body.error.details.map((d) => d.path)).toContain(field);
  expect(body.error.message).toContain(field);
}

describe("text Postgres cannot store, and dates out of range", () => {
  it("/internal/payouts/pause and /resume: 400 naming reason, nothing written", async () => {
    const before = await auditRows();
    await expectRefused(
      await pauseRoute(internalRequest("POST", "/internal/payouts/pause", { reason: NUL }), noParams),
      "reason",
    );
    await expectRefused(
      await resumeRoute(internalRequest("POST", "/internal/payouts/resume", { reason: LONE }), noParams),
      "reason",
    );
    expect(await auditRows()).toBe(before);
  });

  it("PATCH /api/v1/payees/:id and the payee search", async () => {
    const patch = (body: unknown) =>
      payeeRoute.PATCH(
        apiRequest("PATCH", `/api/v1/payees/${payeeId}`, { token: admin, body }),
        routeParams({ id: payeeId }) as never,
      );
    await expectRefused(await patch({ displayName: NUL }), "displayName");
    await expectRefused(await patch({ externalRef: LONE }), "externalRef");
    const search = await payeesRoute.GET(
      apiRequest("GET", `/api/v1/payees?q=${encodeURIComponent(NUL)}`, { token: admin }),
      noParams,
    );
    await expectRefused(search, "q");
  });

  it("POST and PATCH /api/v1/placements: names, and start dates Postgres cannot hold", async () => {
    const post = (patch: Record<string, unknown>) =>
      placementsRoute.POST(
        apiRequest("POST", "/api/v1/placements", { token: admin, body: placementBody(patch) }),
        noParams,
      );
    await expectRefused(await post({ clientName: NUL }), "clientName");
    await expectRefused(await post({ candidateName: LONE }), "candidateName");
    await expectRefused(await post({ startDate: "0000-01-01" }), "startDate");
    await expectRefused(await post({ startDate: "9999-12-31" }), "startDate");
    const patch = (body: unknown) =>
      placementRoute.PATCH(
        apiRequest("PATCH", `/api/v1/placements/${placementId}`, { token: admin, body }),
        routeParams({ id: placementId }) as never,
      );
    await expectRefused(await patch({ startDate: "0000-01-01" }), "startDate");
    await expectRefused(await patch({ startDate: "9999-12-31" }), "startDate");
    await expectRefused(await patch({ clientName: LONE }), "clientName");
    expect((await patch({ startDate: "2999-12-31" })).status).toBe(200);
  });

  it("POST /api/v1/escrow-holds", async () => {
    const post = (patch: Record<string, unknown>) =>
      holdsRoute.POST(
        apiRequest("POST", "/api/v1/escrow-holds", {
          token: admin,
          body: { payeeId, amountCents: 100, reason: "r", ...patch },
        }),
        noParams,
      );
    await expectRefused(await post({ reason: NUL }), "reason");
    await expectRefused(await post({ reason: "r", releaseAt: "0000-01-01T00:00:00Z" }), "releaseAt");
  });

  it("a signed Stripe event with such text in its object is stored, made storable; one keyed on it is refused", async () => {
    const event = buildEvent("customer.created", "customer", {
      name: NUL,
      description: LONE,
      metadata: { [NUL]: "x" },
    });
    expect(await deliver(t.db, event)).toMatchObject({ status: "ignored" });
    const [stored] = await queryRows<{ name: string; description: string }>(
      t.db,
      sql`select payload->'data'->'object'->>'name' as name, payload->'data'->'object'->>'description' as description
          from processor_events where event_id = ${event.id}`,
    );
    expect(stored).toEqual({ name: "a\ufffdb", description: "a\ufffdb" });
    // Stripe's redelivery of the same event is recognised as the same payload, not a conflict.
    expect(await deliver(t.db, event)).toEqual({ status: "duplicate", eventId: event.id });

    const handled = buildEvent(
      "account.updated",
      "account",
      { id: "acct_text", business_profile: { name: NUL } },
      { account: "acct_text" },
    );
    expect((await deliver(t.db, handled)).status).not.toBe("failed");
    expect(await eventRow(t.db, handled.id)).toBeDefined();

    const keyed = { ...buildEvent("customer.created", "customer"), id: `evt_${NUL}` };
    const { body, signature } = signedDelivery(keyed);
    await expect(
      receiveStripeWebhook(
        t.db,
        { rawBody: body, signature },
        { env: handlerEnv, gateway: noStripe, secrets: testWebhookSecrets },
      ),
    ).rejects.toMatchObject({ code: "invalid_event" });
  });
});
