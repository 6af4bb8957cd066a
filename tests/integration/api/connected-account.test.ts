import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as accountRoute from "@/app/api/v1/payees/[id]/connected-account/route";
import * as payeesRoute from "@/app/api/v1/payees/route";
import { resetEnvCache } from "@/lib/env";
import { resetStripeClient } from "@/lib/stripe/client";
import { apiRequest, routeParams, tokenFor } from "../../support/auth";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { useAppEnv } from "../payouts/helpers";

// Issue 11, item 8: connected accounts could be created only through the payee's server action.
// POST /api/v1/payees/:id/connected-account gives integrators the same, idempotently.

let t: TestDb;
let stripe: TestStripe;
let admin: string;
const saved = { ...process.env };

beforeAll(async () => {
  [t, stripe] = await Promise.all([createTestDb(), startTestStripe({ maxNetworkRetries: 0 })]);
  for (const key of ["SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_JWT_SECRET", "VERCEL"])
    delete process.env[key];
  useAppEnv(t.db, stripe.simulator.url);
  admin = await tokenFor("platform_admin");
});
afterAll(async () => {
  process.env = saved;
  resetEnvCache();
  resetStripeClient();
  await stripe?.close();
  await t?.close();
});

const post = (payeeId: string, token: string, body?: unknown) =>
  accountRoute.POST(
    apiRequest("POST", `/api/v1/payees/${payeeId}/connected-account`, { token, body }),
    routeParams({ id: payeeId }) as never,
  );

async function newPayee(name: string): Promise<string> {
  const res = await payeesRoute.POST(
    apiRequest("POST", "/api/v1/payees", {
      token: admin,
      body: { displayName: name, email: `${name}@example.com`, country: "GB" },
    }),
    routeParams({}) as never,
  );
  return ((await res.json()) as { id: string }).id;
}

const accountCreations = () =>
  stripe.simulator.requests(0, 100_000).filter((r) => r.endpoint === "POST /v1/accounts" && !r.replayed)
    .length;

describe("POST /api/v1/payees/:id/connected-account", () => {
  it("creates the Express account once (201), then answers the same account (200)", async () => {
    const payeeId = await newPayee("integrator");
    const before = accountCreations();
    const first = await post(payeeId, admin);
    expect(first.status).toBe(201);
    const account = (await first.json()) as {
      id: string;
      payeeId: string;
      stripeAccountId: string;
      country: string;
      type: string;
    };
    expect(account).toMatchObject({ payeeId, type: "express", country: "GB" });
    expect(account.stripeAccountId).toMatch(/^acct_/);
    const again = await post(payeeId, admin, {});
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ id: account.id, stripeAccountId: account.stripeAccountId });
    expect(accountCreations()).toBe(before + 1);
  });

  it("404 for an unknown payee, 403 for finance and payees, 400 for a body with fields", async () => {
    expect((await post("00000000-0000-4000-8000-000000000000", admin)).status).toBe(404);
    const payeeId = await newPayee("guarded");
    expect((await post(payeeId, await tokenFor("finance"))).status).toBe(403);
    expect((await post(payeeId, await tokenFor("payee", { payeeId }))).status).toBe(403);
    expect((await post(payeeId, admin, { country: "US" })).status).toBe(400);
    expect((await post("not-a-uuid", admin)).status).toBe(400);
  });
});
