import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { placements } from "@/db/schema";
import * as auditRoute from "@/app/api/v1/audit-log/route";
import * as holdsRoute from "@/app/api/v1/escrow-holds/route";
import * as payeeRoute from "@/app/api/v1/payees/[id]/route";
import * as settingsRoute from "@/app/api/v1/payees/[id]/payout-settings/route";
import * as payeesRoute from "@/app/api/v1/payees/route";
import * as placementRoute from "@/app/api/v1/placements/[id]/route";
import * as placementsRoute from "@/app/api/v1/placements/route";
import * as scheduleRoute from "@/app/api/v1/payout-schedules/[id]/route";
import * as triggerRoute from "@/app/api/v1/payout-schedules/[id]/trigger/route";
import { issueLocalToken } from "@/lib/auth/user";
import { apiRequest, routeParams, tokenFor } from "../../support/auth";
import { createTestDb, type TestDb } from "../../support/db";
import { configureApp } from "../../support/app";

let t: TestDb;
let adminToken: string;
let financeToken: string;
const payeeIds: string[] = [];
let payeeToken: string;

const noParams = routeParams({}) as never;
const count = async (table: string) =>
  Number((await queryRows<{ n: string }>(t.db, sql.raw(`select count(*) as n from ${table}`)))[0]!.n);

beforeAll(async () => {
  t = await createTestDb();
  configureApp(t.db);
  adminToken = await tokenFor("platform_admin");
  financeToken = await tokenFor("finance");
  for (const name of ["Own Olivia", "Other Oscar"]) {
    const res = await payeesRoute.POST(
      apiRequest("POST", "/api/v1/payees", {
        token: adminToken,
        body: { displayName: name, email: `${name[0]}@x.io` },
      }),
      noParams,
    );
    expect(res.status).toBe(201);
    payeeIds.push(((await res.json()) as { id: string }).id);
  }
  payeeToken = await tokenFor("payee", { payeeId: payeeIds[0] });
});
afterAll(() => t.close());

describe("authentication", () => {
  it("401 without a token, with a forged one, or an expired one", async () => {
    const req = (token?: string) => payeesRoute.GET(apiRequest("GET", "/api/v1/payees", { token }), noParams);
    expect((await req()).status).toBe(401);
    const forged = `${adminToken.slice(0, adminToken.lastIndexOf("."))}.${"A".repeat(43)}`;
    expect((await req(forged)).status).toBe(401);
    expect((await req(await tokenFor("platform_admin", { expiresInSeconds: -60 }))).status).toBe(401);
    // A header claiming a role is not a token.
    const spoof = apiRequest("GET", "/api/v1/payees");
    spoof.headers.set("x-user-role", "platform_admin");
    expect((await payeesRoute.GET(spoof, noParams)).status).toBe(401);
    expect((await req(adminToken)).status).toBe(200);
  });

  it("a token signed with another secret is refused", async () => {
    const other = await issueLocalToken(
      { userId: "u", role: "platform_admin" },
      {
        SUPABASE_JWT_SECRET: "some-other-secret-entirely-0123456789",
        SUPABASE_URL: undefined,
        authMode: "local",
        strict: false,
      },
    );
    expect(
      (await payeesRoute.GET(apiRequest("GET", "/api/v1/payees", { token: other }), noParams)).status,
    ).toBe(401);
  });

  it("issueLocalToken refuses in strict (production) mode", async () => {
    await expect(
      issueLocalToken(
        { userId: "u", role: "finance" },
        { SUPABASE_JWT_SECRET: "x", SUPABASE_URL: undefined, authMode: "local", strict: true },
      ),
    ).rejects.toThrow(/production/);
  });
});

describe("roles", () => {
  it("finance reads everything but may not write (403, nothing written)", async () => {
    expect(
      (await payeesRoute.GET(apiRequest("GET", "/api/v1/payees", { token: financeToken }), noParams)).status,
    ).toBe(200);
    expect(
      (await auditRoute.GET(apiRequest("GET", "/api/v1/audit-log", { token: financeToken }), noParams))
        .status,
    ).toBe(200);
    const before = await count("payees");
    const res = await payeesRoute.POST(
      apiRequest("POST", "/api/v1/payees", {
        token: financeToken,
        body: { displayName: "F", email: "f@x.io" },
      }),
      noParams,
    );
    expect(res.status).toBe(403);
    expect(await count("payees")).toBe(before);
    const patch = await settingsRoute.PATCH(
      apiRequest("PATCH", "/", { token: financeToken, body: { payoutsEnabled: false } }),
      routeParams({ id: payeeIds[0]! }),
    );
    expect(patch.status).toBe(403);
  });

  it("a payee sees only itself; another payee's id is a 404", async () => {
    const own = await payeeRoute.GET(
      apiRequest("GET", "/", { token: payeeToken }),
      routeParams({ id: payeeIds[0]! }),
    );
    expect(own.status).toBe(200);
    const other = await payeeRoute.GET(
      apiRequest("GET", "/", { token: payeeToken }),
      routeParams({ id: payeeIds[1]! }),
    );
    expect(other.status).toBe(404);
    const list = await payeesRoute.GET(apiRequest("GET", "/api/v1/payees", { token: payeeToken }), noParams);
    expect(((await list.json()) as { data: { id: string }[] }).data.map((p) => p.id)).toEqual([payeeIds[0]]);
    expect(
      (await auditRoute.GET(apiRequest("GET", "/api/v1/audit-log", { token: payeeToken }), noParams)).status,
    ).toBe(403);
    const write = await holdsRoute.POST(
      apiRequest("POST", "/", {
        token: payeeToken,
        body: { payeeId: payeeIds[0], amountCents: 1, reason: "x" },
      }),
      noParams,
    );
    expect(write.status).toBe(403);
  });

  it("a payee bound by payees.user_id (no payee_id claim) gets its own payee", async () => {
    const userId = "6f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b";
    await payeeRoute.PATCH(
      apiRequest("PATCH", "/", { token: adminToken, body: { userId } }),
      routeParams({ id: payeeIds[1]! }),
    );
    const token = await tokenFor("payee", { userId });
    expect(
      (await payeeRoute.GET(apiRequest("GET", "/", { token }), routeParams({ id: payeeIds[1]! }))).status,
    ).toBe(200);
    expect(
      (await payeeRoute.GET(apiRequest("GET", "/", { token }), routeParams({ id: payeeIds[0]! }))).status,
    ).toBe(404);
    const unlinked = await tokenFor("payee");
    expect((await payeesRoute.GET(apiRequest("GET", "/", { token: unlinked }), noParams)).status).toBe(403);
  });

  it("placements and schedules of another payee are 404 for a payee", async () => {
    const res = await placementsRoute.POST(
      apiRequest("POST", "/", {
        token: adminToken,
        body: {
          payeeId: payeeIds[1],
          clientStripeCustomerId: "cus_abc",
          feeCents: 10_000,
          payeeShareCents: 7_000,
          currency: "USD",
          startDate: "2026-01-05",
          guaranteeDays: 60,
        },
      }),
      noParams,
    );
    expect(res.status).toBe(201);
    const created = (await res.json()) as Record<string, unknown>;
    expect(created).toMatchObject({
      currency: "usd",
      status: "active",
      guaranteeExpiresAt: "2026-03-06T00:00:00.000Z",
    });
    expect(Object.keys(created)).not.toContain("leaseExpiresAt");
    const id = created.id as string;
    expect(
      (await placementRoute.GET(apiRequest("GET", "/", { token: payeeToken }), routeParams({ id }))).status,
    ).toBe(404);
    const [schedule] = await queryRows<{ id: string }>(
      t.db,
      sql`select id from payout_schedules where placement_id = ${id}`,
    );
    const sched = await scheduleRoute.GET(
      apiRequest("GET", "/", { token: payeeToken }),
      routeParams({ id: schedule!.id }),
    );
    expect(sched.status).toBe(404);
    const body = (await (
      await scheduleRoute.GET(
        apiRequest("GET", "/", { token: financeToken }),
        routeParams({ id: schedule!.id }),
      )
    ).json()) as Record<string, unknown>;
    expect(Object.keys(body)).not.toContain("leaseExpiresAt");
    expect(Object.keys(body)).not.toContain("ledgerTransactionId");
    const trig = await triggerRoute.POST(
      apiRequest("POST", "/", { token: financeToken }),
      routeParams({ id: schedule!.id }),
    );
    expect(trig.status).toBe(403);
    const trigAdmin = await triggerRoute.POST(
      apiRequest("POST", "/", { token: adminToken }),
      routeParams({ id: schedule!.id }),
    );
    expect(((await trigAdmin.json()) as { outcome: string }).outcome).toBe("not_collectible");
  });
});

describe("validation", () => {
  it("bad bodies, params and queries are 4xx JSON with nothing written", async () => {
    const before = await count("placements");
    const auditBefore = await count("audit_log");
    const bad = [
      { feeCents: 10.5 },
      { feeCents: 100, payeeShareCents: 200 },
      { startDate: "yesterday" },
      { currency: "dollars" },
      { extra: "field" },
    ];
    for (const patch of bad) {
      const res = await placementsRoute.POST(
        apiRequest("POST", "/", {
          token: adminToken,
          body: {
            payeeId: payeeIds[0],
            clientStripeCustomerId: "cus_abc",
            feeCents: 10_000,
            payeeShareCents: 7_000,
            currency: "usd",
            startDate: "2026-01-05",
            guaranteeDays: 60,
            ...patch,
          },
        }),
        noParams,
      );
      expect(res.status, JSON.stringify(patch)).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("bad_request");
    }
    const notJson = await placementsRoute.POST(
      apiRequest("POST", "/", { token: adminToken, body: "{nope" }),
      noParams,
    );
    expect(notJson.status).toBe(400);
    const badId = await placementRoute.GET(
      apiRequest("GET", "/", { token: adminToken }),
      routeParams({ id: "not-a-uuid" }),
    );
    expect(badId.status).toBe(400);
    const badQuery = await placementsRoute.GET(
      apiRequest("GET", "/api/v1/placements?limit=0", { token: adminToken }),
      noParams,
    );
    expect(badQuery.status).toBe(400);
    const badCursor = await placementsRoute.GET(
      apiRequest("GET", "/api/v1/placements?cursor=garbage", { token: adminToken }),
      noParams,
    );
    expect(badCursor.status).toBe(400);
    expect(await count("placements")).toBe(before);
    expect(await count("audit_log")).toBe(auditBefore);
  });

  it("paginates with a cursor, newest first, without repeats", async () => {
    for (let i = 0; i < 5; i++) {
      await payeesRoute.POST(
        apiRequest("POST", "/", {
          token: adminToken,
          body: { displayName: `Page ${i}`, email: `p${i}@x.io` },
        }),
        noParams,
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : "";
      const res = await payeesRoute.GET(
        apiRequest("GET", `/api/v1/payees?limit=2${q}`, { token: adminToken }),
        noParams,
      );
      const page = (await res.json()) as { data: { id: string }[]; nextCursor: string | null };
      seen.push(...page.data.map((p) => p.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(await count("payees"));
  });

  it("admin writes are audited with the user id and role", async () => {
    const res = await settingsRoute.PATCH(
      apiRequest("PATCH", "/", {
        token: adminToken,
        body: { payoutsEnabled: false, minimumPayoutCents: 5000 },
      }),
      routeParams({ id: payeeIds[0]! }),
    );
    expect(res.status).toBe(200);
    const audit = await auditRoute.GET(
      apiRequest("GET", `/api/v1/audit-log?entityType=payout_settings&entityId=${payeeIds[0]}`, {
        token: adminToken,
      }),
      noParams,
    );
    const rows = ((await audit.json()) as { data: { actorRole: string; action: string; after: unknown }[] })
      .data;
    expect(rows[0]).toMatchObject({ actorRole: "platform_admin", action: "payout_settings.updated" });
    expect(rows[0]!.after).toMatchObject({ payoutsEnabled: false, minimumPayoutCents: 5000 });
    const placementCount = await t.db.select().from(placements).where(eq(placements.payeeId, payeeIds[0]!));
    expect(placementCount).toEqual([]);
  });
});
