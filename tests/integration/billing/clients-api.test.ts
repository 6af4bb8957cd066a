import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import * as cancelRoute from "@/app/api/v1/clients/[id]/cancel/route";
import * as planRoute from "@/app/api/v1/clients/[id]/plan/route";
import * as clientRoute from "@/app/api/v1/clients/[id]/route";
import * as clientsRoute from "@/app/api/v1/clients/route";
import * as usageRoute from "@/app/api/v1/usage/route";
import { loadEnv, resetEnvCache } from "@/lib/env";
import { createPlacement } from "@/lib/placements/crud";
import { resetStripeClient } from "@/lib/stripe/client";
import { ingestStripeEvent, type StripeEvent } from "@/lib/webhooks";
import { apiRequest, routeParams, tokenFor } from "../../support/auth";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { useAppEnv } from "../payouts/helpers";
import { admin as adminActor, makePayee } from "../sweeps/helpers";

// /api/v1/clients and /api/v1/usage: roles, bad input (a clear 4xx and no write), idempotent
// creation, plan changes and cancellation at the simulator, and the webhooks that keep clients in step.

let t: TestDb;
let stripe: TestStripe;
let admin: string;
let finance: string;
let payee: string;
const saved = { ...process.env };
const none = routeParams({}) as never;
const plans = JSON.parse(
  (await import("node:fs")).readFileSync("lib/stripe/simulator/billing-plans.json", "utf8"),
) as Record<string, { basePrice: string; meters: Record<string, string> }>;

beforeAll(async () => {
  [t, stripe] = await Promise.all([createTestDb(), startTestStripe({ maxRetries: 0 })]);
  for (const key of [
    "SUPABASE_URL",
    "SUPABASE_ANON_KEY",
    "SUPABASE_JWT_SECRET",
    "VERCEL",
    "BILLING_PLANS",
    "BILLING_PLANS_FILE",
  ])
    delete process.env[key];
  useAppEnv(t.db, stripe.simulator.url);
  [admin, finance, payee] = await Promise.all([
    tokenFor("platform_admin"),
    tokenFor("finance"),
    tokenFor("payee"),
  ]);
});
afterAll(async () => {
  process.env = saved;
  resetEnvCache();
  resetStripeClient();
  await stripe?.close();
  await t?.close();
});

const rows = async (table: string) =>
  Number((await queryRows<{ n: number }>(t.db, sql.raw(`select count(*)::int as n from ${table}`)))[0]!.n);
const stripeWrites = () => stripe.simulator.requests().filter((r) => r.method !== "GET").length;

function createReq(token: string, body: unknown, key?: string) {
  const req = apiRequest("POST", "/api/v1/clients", { token, body });
  if (key) req.headers.set("idempotency-key", key);
  return clientsRoute.POST(req, none);
}
function usageReq(token: string, body: unknown, key?: string) {
  const req = apiRequest("POST", "/api/v1/usage", { token, body });
  if (key) req.headers.set("idempotency-key", key);
  return usageRoute.POST(req, none);
}
const body = (name = "Acme Staffing", plan = "starter") => ({ name, email: "ap@acme.example", plan });

async function newClient(name: string, plan = "starter") {
  const res = await createReq(admin, body(name, plan), `create-${name}`);
  expect(res.status).toBe(201);
  return (await res.json()) as {
    id: string;
    stripeCustomerId: string;
    stripeSubscriptionId: string;
    status: string;
    plan: string;
  };
}

describe("POST /api/v1/clients", () => {
  it("creates a client with its customer and a subscription to the plan's prices, once per Idempotency-Key", async () => {
    const first = await createReq(admin, body(), "acme-1");
    expect(first.status).toBe(201);
    const client = (await first.json()) as {
      id: string;
      status: string;
      stripeCustomerId: string;
      stripeSubscriptionId: string;
      subscriptionStatus: string;
    };
    expect(client).toMatchObject({
      status: "active",
      subscriptionStatus: "active",
      stripeCustomerId: expect.stringMatching(/^cus_/),
    });
    const subscription = await stripe.gateway.retrieveSubscription(client.stripeSubscriptionId);
    expect(subscription.customer).toBe(client.stripeCustomerId);
    expect(subscription.items.data.map((i) => i.price.id).sort()).toEqual(
      [plans.starter!.basePrice, ...Object.values(plans.starter!.meters)].sort(),
    );
    const writes = stripeWrites();
    const again = await createReq(admin, body(), "acme-1");
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(client.id);
    expect(stripeWrites()).toBe(writes);
    // The same key for something else: refused, nothing made.
    const other = await createReq(admin, body("Other Co"), "acme-1");
    expect(other.status).toBe(409);
    expect(await rows("clients")).toBe(1);
    const audit = await queryRows<{ action: string }>(
      t.db,
      sql`select action from audit_log where entity_id = ${client.id} order by id`,
    );
    expect(audit.map((a) => a.action)).toEqual(["client.created", "client.subscribed"]);
  });

  it("refuses the wrong role and bad input with a clear 4xx, writing nothing here or at Stripe", async () => {
    const [clientsBefore, writesBefore, auditBefore] = [
      await rows("clients"),
      stripeWrites(),
      await rows("audit_log"),
    ];
    const cases: Array<[Promise<Response>, number, RegExp]> = [
      [createReq(finance, body("F"), "f-1"), 403, /role finance/],
      [createReq(payee, body("P"), "p-1"), 403, /role payee/],
      [clientsRoute.POST(apiRequest("POST", "/api/v1/clients", { body: body() }), none), 401, /Bearer/],
      [createReq(admin, body("No key")), 400, /Idempotency-Key/],
      [
        createReq(admin, body("Gold", "gold"), "g-1"),
        422,
        /no plan .+gold.+; the plans are starter, business, enterprise/,
      ],
      [createReq(admin, body("BAD PLAN", "Not A Plan!"), "g-2"), 400, /plan/],
      [createReq(admin, { ...body("Bad mail"), email: "nope" }, "m-1"), 400, /email/],
      [createReq(admin, { ...body("Nul\u0000Co") }, "n-1"), 400, /NUL/],
      [createReq(admin, { ...body("Extra"), discount: 5 }, "x-1"), 400, /discount/],
      [createReq(admin, "{not json", "j-1"), 400, /JSON/],
    ];
    for (const [response, status, message] of cases) {
      const res = await response;
      expect(res.status).toBe(status);
      expect(JSON.stringify(await res.json())).toMatch(message);
    }
    expect(await rows("clients")).toBe(clientsBefore);
    expect(await rows("audit_log")).toBe(auditBefore);
    expect(stripeWrites()).toBe(writesBefore);
  });
});

describe("reading clients", () => {
  it("finance and admins list in keyset pages and read one; a payee may not; a bad cursor or id is a 400", async () => {
    await newClient("Page A");
    await newClient("Page B");
    const page1 = await clientsRoute.GET(
      apiRequest("GET", "/api/v1/clients?limit=2", { token: finance }),
      none,
    );
    expect(page1.status).toBe(200);
    const p1 = (await page1.json()) as { data: Array<{ id: string; name: string }>; nextCursor: string };
    expect(p1.data.map((c) => c.name)).toEqual(["Page B", "Page A"]);
    const page2 = await clientsRoute.GET(
      apiRequest("GET", `/api/v1/clients?limit=2&cursor=${p1.nextCursor}`, { token: admin }),
      none,
    );
    const p2 = (await page2.json()) as { data: Array<{ name: string }>; nextCursor: string | null };
    expect(p2.data.map((c) => c.name)).toEqual(["Acme Staffing"]);
    expect(p2.nextCursor).toBeNull();
    expect(
      (await clientsRoute.GET(apiRequest("GET", "/api/v1/clients?cursor=bogus", { token: admin }), none))
        .status,
    ).toBe(400);
    expect(
      (await clientsRoute.GET(apiRequest("GET", "/api/v1/clients?limit=0", { token: admin }), none)).status,
    ).toBe(400);
    expect(
      (await clientsRoute.GET(apiRequest("GET", "/api/v1/clients", { token: payee }), none)).status,
    ).toBe(403);
    const one = await clientRoute.GET(
      apiRequest("GET", "/", { token: finance }),
      routeParams({ id: p1.data[0]!.id }),
    );
    expect(((await one.json()) as { name: string }).name).toBe("Page B");
    expect(
      (await clientRoute.GET(apiRequest("GET", "/", { token: finance }), routeParams({ id: "nope" }))).status,
    ).toBe(400);
    expect(
      (
        await clientRoute.GET(
          apiRequest("GET", "/", { token: finance }),
          routeParams({ id: "00000000-0000-4000-8000-000000000000" }),
        )
      ).status,
    ).toBe(404);
  });
});

describe("plan changes and cancellation", () => {
  it("changes plan at Stripe (the old plan's items out, the new in), refusing the wrong role, an unknown plan and the same plan", async () => {
    const client = await newClient("Mover");
    const post = (token: string, b: unknown) =>
      planRoute.POST(apiRequest("POST", "/", { token, body: b }), routeParams({ id: client.id }));
    const writes = stripeWrites();
    expect((await post(finance, { plan: "business" })).status).toBe(403);
    expect((await post(admin, { plan: "gold" })).status).toBe(422);
    expect((await post(admin, {})).status).toBe(400);
    expect((await post(admin, { plan: "starter" })).status).toBe(409);
    expect(stripeWrites()).toBe(writes);
    const res = await post(admin, { plan: "business" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ plan: "business", status: "active" });
    const subscription = await stripe.gateway.retrieveSubscription(client.stripeSubscriptionId);
    expect(subscription.items.data.map((i) => i.price.id).sort()).toEqual(
      [plans.business!.basePrice, ...Object.values(plans.business!.meters)].sort(),
    );
  });

  it("cancels now or at the period's end; refuses the wrong role, no reason, and a second cancel", async () => {
    const now = await newClient("Leaver");
    const later = await newClient("Leaver Later");
    const post = (id: string, token: string, b: unknown) =>
      cancelRoute.POST(apiRequest("POST", "/", { token, body: b }), routeParams({ id }));
    expect((await post(now.id, finance, { reason: "asked" })).status).toBe(403);
    expect((await post(now.id, admin, {})).status).toBe(400);
    const res = await post(now.id, admin, { reason: "client asked to stop" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "canceled", subscriptionStatus: "canceled" });
    expect((await stripe.gateway.retrieveSubscription(now.stripeSubscriptionId)).status).toBe("canceled");
    expect((await post(now.id, admin, { reason: "again" })).status).toBe(409);
    const scheduled = await post(later.id, admin, { reason: "end of contract", atPeriodEnd: true });
    expect(await scheduled.json()).toMatchObject({ status: "active", cancelAtPeriodEnd: true });
    const [audit] = await queryRows<{ reason: string }>(
      t.db,
      sql`select reason from audit_log where entity_id = ${now.id} and action = 'client.canceled'`,
    );
    expect(audit?.reason).toBe("client asked to stop");
  });

  it("customer.subscription.* webhooks keep the client in step with Stripe", async () => {
    const client = await newClient("Synced");
    // Cancelled in Stripe's Dashboard, not through Payrun: the event tells us.
    await stripe.stripe.subscriptions.cancel(client.stripeSubscriptionId);
    const events = await stripe.gateway.listEvents({ types: ["customer.subscription.deleted"], limit: 10 });
    const event = events.data.find(
      (e) => (e.data.object as { id: string }).id === client.stripeSubscriptionId,
    )!;
    const result = await ingestStripeEvent(t.db, event as unknown as StripeEvent, {
      env: loadEnv(),
      gateway: () => stripe.gateway as never,
      source: "events_api_backfill",
      trigger: "backfill",
    });
    expect(result.status).toBe("processed");
    const read = await clientRoute.GET(
      apiRequest("GET", "/", { token: finance }),
      routeParams({ id: client.id }),
    );
    expect(await read.json()).toMatchObject({ status: "canceled", subscriptionStatus: "canceled" });
  });
});

describe("POST /api/v1/usage", () => {
  it("records usage once per Idempotency-Key; refuses the wrong role, bad input and meters the plan lacks, writing nothing", async () => {
    const client = await newClient("Metered", "enterprise");
    const good = { clientId: client.id, meter: "placements", quantity: 3 };
    const first = await usageReq(admin, good, "u-1");
    expect(first.status).toBe(201);
    const record = (await first.json()) as { id: string; identifier: string; quantity: number };
    expect(record).toMatchObject({ quantity: 3, identifier: `payrun_usage_${record.id}` });
    const again = await usageReq(admin, good, "u-1");
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(record.id);
    const before = await rows("usage_records");
    const cases: Array<[Promise<Response>, number, RegExp]> = [
      [usageReq(admin, { ...good, quantity: 4 }, "u-1"), 409, /Idempotency-Key was used/],
      [usageReq(finance, good, "u-2"), 403, /role finance/],
      [usageReq(admin, good), 400, /Idempotency-Key/],
      [
        usageReq(admin, { ...good, meter: "api_calls" }, "u-3"),
        422,
        /enterprise plan does not meter .+api_calls/,
      ],
      [usageReq(admin, { ...good, quantity: 0 }, "u-4"), 400, /at least 1/],
      [usageReq(admin, { ...good, quantity: 1.5 }, "u-5"), 400, /whole/],
      [
        usageReq(admin, { ...good, clientId: "00000000-0000-4000-8000-000000000000" }, "u-6"),
        422,
        /no such client/,
      ],
      [usageReq(admin, { ...good, occurredAt: "yesterday" }, "u-7"), 400, /date-time/],
      [usageReq(admin, { ...good, meter: "bad meter" }, "u-8"), 400, /meter/],
    ];
    for (const [response, status, message] of cases) {
      const res = await response;
      expect(res.status).toBe(status);
      expect(JSON.stringify(await res.json())).toMatch(message);
    }
    expect(await rows("usage_records")).toBe(before);
    const list = await usageRoute.GET(
      apiRequest("GET", `/api/v1/usage?clientId=${client.id}`, { token: finance }),
      none,
    );
    expect(((await list.json()) as { data: unknown[] }).data).toHaveLength(1);
    expect((await usageRoute.GET(apiRequest("GET", "/api/v1/usage", { token: payee }), none)).status).toBe(
      403,
    );
  });

  it("a placement made for a client whose plan meters placements records one usage record", async () => {
    const client = await newClient("Placer", "business");
    const p = await makePayee(t.db, "Meter Payee");
    const placement = await createPlacement(t.db, {
      input: {
        payeeId: p.id,
        clientStripeCustomerId: client.stripeCustomerId,
        clientName: "Placer",
        candidateName: "C",
        feeCents: 100_000,
        payeeShareCents: 50_000,
        currency: "usd",
        startDate: "2026-01-05",
        guaranteeDays: 30,
      },
      actor: adminActor,
      timeZone: "UTC",
      plans: loadEnv().billingPlans,
    });
    const usage = await queryRows<{
      meter_event_name: string;
      source: string;
      request_key: string;
      quantity: number;
    }>(
      t.db,
      sql`select meter_event_name, source, request_key, quantity from usage_records where client_id = ${client.id}`,
    );
    expect(usage).toEqual([
      {
        meter_event_name: "placements",
        source: "placement",
        request_key: `placement:${placement.id}`,
        quantity: 1,
      },
    ]);
  });
});
