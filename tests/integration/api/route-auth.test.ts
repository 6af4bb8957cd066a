import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { sql } from "drizzle-orm";
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { resetEnvCache } from "@/lib/env";
import { tokenFor } from "../../support/auth";
import { createTestDb, type TestDb } from "../../support/db";
import { CRON_SECRET } from "../payouts/helpers";

// docs/SECURITY.md's route table, proved: every route handler under app/ is found on disk and called
// with every method it exports, without credentials, with a wrong credential, and (for /api/v1) with
// a token of a role it does not name. Each answers 401/403 (400 for the Stripe webhook's missing
// signature) and writes nothing. A new route that forgets its wrapper fails here.

const ROOT = path.resolve(import.meta.dirname, "../../..");
const METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"] as const;
const SOME_UUID = "00000000-0000-4000-8000-0000000000ff";

function routeFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return routeFiles(full);
    return name === "route.ts" ? [full] : [];
  });
}

/** /api/v1/payees/[id]/route.ts -> /api/v1/payees/<uuid>, and the params object. */
function urlAndParams(file: string) {
  const rel = path.relative(path.join(ROOT, "app"), path.dirname(file)).split(path.sep);
  const params: Record<string, string> = {};
  const segments = rel.map((s) => {
    const m = /^\[(.+)\]$/.exec(s);
    if (!m) return s;
    params[m[1]!] = SOME_UUID;
    return SOME_UUID;
  });
  return { url: `/${segments.join("/")}`, params };
}

let t: TestDb;
const writes = async () => {
  const [row] = await queryRows<{ n: string }>(
    t.db,
    sql`select (select count(*) from audit_log) + (select count(*) from ledger_transactions) + (select count(*) from payouts)
             + (select count(*) from payout_runs) + (select count(*) from processor_events) + (select count(*) from local_dispatches) as n`,
  );
  return Number(row!.n);
};

beforeAll(async () => {
  t = await createTestDb();
  for (const key of ["SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_JWT_SECRET", "VERCEL", "QSTASH_TOKEN"])
    delete process.env[key];
  process.env.CRON_SECRET_KEY = CRON_SECRET;
  process.env.STRIPE_WEBHOOK_SECRET = "whsec_route_auth_test";
  resetEnvCache();
  (globalThis as { __payrunDb?: unknown }).__payrunDb = {
    handle: { close: async () => {} },
    ready: Promise.resolve(t.db),
  };
});
afterAll(async () => {
  delete process.env.STRIPE_WEBHOOK_SECRET;
  resetEnvCache();
  await t.close();
});

const files = routeFiles(path.join(ROOT, "app"));

describe("every route under app/ authenticates before it acts", () => {
  it("finds the routes SECURITY.md lists", () => {
    const urls = files.map((f) => urlAndParams(f).url);
    expect(urls.filter((u) => u.startsWith("/api/v1/")).length).toBeGreaterThanOrEqual(20);
    expect(urls.filter((u) => u.startsWith("/internal/")).length).toBeGreaterThanOrEqual(17);
    expect(urls).toContain("/webhooks/stripe");
    // every route file names its wrapper: withUser, withInternal, or the webhook's own verification
    for (const f of files) {
      const text = readFileSync(f, "utf8");
      const wrapped = /withUser|withInternal/.test(text) || text.includes("receiveStripeWebhook");
      expect([path.relative(ROOT, f), wrapped]).toEqual([path.relative(ROOT, f), true]);
    }
    // and SECURITY.md's route table names each one (dynamic segments as :name)
    const doc = readFileSync(path.join(ROOT, "docs/SECURITY.md"), "utf8");
    for (const f of files) {
      const documented = `/${path
        .relative(path.join(ROOT, "app"), path.dirname(f))
        .split(path.sep)
        .map((s) => s.replace(/^\[(.+)\]$/, ":$1"))
        .join("/")}`;
      expect([documented, doc.includes(`\`${documented}\``)]).toEqual([documented, true]);
    }
  });

  it("without credentials, or with wrong ones: 401 (the webhook: 400), nothing written", async () => {
    const before = await writes();
    const tried: string[] = [];
    for (const file of files) {
      const mod = (await import(file)) as Record<string, unknown>;
      const { url, params } = urlAndParams(file);
      for (const method of METHODS) {
        const handler = mod[method] as ((req: NextRequest, ctx: unknown) => Promise<Response>) | undefined;
        if (!handler) continue;
        const body = method === "GET" ? undefined : "{}";
        const variants: [string, Record<string, string>][] = url.startsWith("/api/v1/")
          ? [
              ["none", {}],
              ["garbage token", { authorization: "Bearer not.a.token" }],
              ["cron secret instead of a token", { "x-cron-secret": CRON_SECRET }],
            ]
          : url.startsWith("/internal/")
            ? [
                ["none", {}],
                ["wrong cron secret", { "x-cron-secret": "wrong-secret-0123456789" }],
                ["forged QStash signature", { "upstash-signature": "eyJhbGciOiJIUzI1NiJ9.e30.AAAA" }],
                ["a user's token", { authorization: `Bearer ${await tokenFor("platform_admin")}` }],
              ]
            : [
                ["none", {}],
                [
                  "forged signature",
                  { "stripe-signature": `t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}` },
                ],
              ];
        for (const [what, headers] of variants) {
          const req = new NextRequest(`http://127.0.0.1:9${url}`, {
            method,
            headers: { "content-type": "application/json", ...headers },
            body,
          });
          const res = await handler(req, { params: Promise.resolve(params) });
          const expected = url === "/webhooks/stripe" ? 400 : 401;
          expect(`${method} ${url} (${what}): ${res.status}`).toBe(`${method} ${url} (${what}): ${expected}`);
          tried.push(`${method} ${url}`);
        }
      }
    }
    expect(new Set(tried).size).toBeGreaterThanOrEqual(40);
    expect(await writes()).toBe(before);
  });

  it("every /api/v1 write refuses the roles it does not name with 403, nothing written", async () => {
    const before = await writes();
    const finance = await tokenFor("finance");
    // a payee, but not the one in the path
    const payee = await tokenFor("payee", { payeeId: "00000000-0000-4000-8000-0000000000fe" });
    let checked = 0;
    for (const file of files.filter((f) => f.includes(`${path.sep}api${path.sep}v1${path.sep}`))) {
      const text = readFileSync(file, "utf8");
      const mod = (await import(file)) as Record<string, unknown>;
      const { url, params } = urlAndParams(file);
      for (const method of ["POST", "PATCH", "DELETE"] as const) {
        const handler = mod[method] as ((req: NextRequest, ctx: unknown) => Promise<Response>) | undefined;
        if (!handler) continue;
        // finance writes only where the route names it (a four-eyes approval); a payee writes only
        // its own instant payout (another payee's id: 403)
        const roles = new RegExp(`export const ${method} = withUser(?:<[^>]*>)?\\(\\s*\\{\\s*roles: \\[([^\\]]*)\\]`).exec(text)?.[1] ?? "";
        for (const token of roles.includes('"finance"') ? [payee] : [finance, payee]) {
          const req = new NextRequest(`http://127.0.0.1:9${url}`, {
            method,
            headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
            body: JSON.stringify({
              currency: "usd",
              amountCents: 100,
              expectedFeeCents: 50,
              requestKey: "route-auth-1",
            }),
          });
          const res = await handler(req, { params: Promise.resolve(params) });
          const status = res.status;
          // the payee-scoped instant route checks the payee after parsing: someone else's id is 403 too
          expect([`${method} ${url}`, status]).toEqual([`${method} ${url}`, 403]);
          checked++;
        }
        expect(text).toMatch(/roles: \[|admins/);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(20);
    expect(await writes()).toBe(before);
  });
});
