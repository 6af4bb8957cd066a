import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { issueLocalToken, LOCAL_DEV_JWT_SECRET, verifyAccessToken } from "../../lib/auth/user";
import { loadEnv } from "../../lib/env";

const forge = (issuer: string) =>
  new SignJWT({ aud: "authenticated", app_metadata: { role: "platform_admin" } })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("attacker")
    .setIssuer(issuer)
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(LOCAL_DEV_JWT_SECRET));

describe("access tokens", () => {
  it("the embedded default accepts its own local tokens", async () => {
    const env = loadEnv({});
    const token = await issueLocalToken({ userId: "u1", role: "finance" }, env);
    expect(await verifyAccessToken(token, env)).toMatchObject({ id: "u1", role: "finance" });
  });

  it("with a real Stripe key the public demo secret is worthless (self-hosted production)", async () => {
    // Production starts only with Supabase now; a live key through a proxy changes nothing.
    const env = loadEnv({
      NODE_ENV: "production",
      STRIPE_SECRET_KEY: "sk_live_abc",
      STRIPE_API_BASE_URL: "https://proxy.example",
      SUPABASE_URL: "https://p.supabase.co",
      SUPABASE_ANON_KEY: "anon",
    });
    expect(await verifyAccessToken(await forge("payrun-local"), env)).toBeNull();
    await expect(issueLocalToken({ userId: "u1", role: "platform_admin" }, env)).rejects.toThrow();
  });

  it("pins the issuer of HS256 tokens", async () => {
    const env = loadEnv({});
    expect(await verifyAccessToken(await forge("someone-else"), env)).toBeNull();
    const supabase = loadEnv({ SUPABASE_URL: "https://p.supabase.co", SUPABASE_ANON_KEY: "a", SUPABASE_JWT_SECRET: "s".repeat(32) });
    const foreign = await new SignJWT({ aud: "authenticated", app_metadata: { role: "platform_admin" } })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("x")
      .setIssuer("https://other.supabase.co/auth/v1")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("s".repeat(32)));
    expect(await verifyAccessToken(foreign, supabase)).toBeNull();
  });
});

describe("after sign-in", () => {
  it("only same-site paths are followed", async () => {
    const { safeNextPath } = await import("../../lib/auth/next-path");
    expect(safeNextPath("/ops/runs?cursor=abc")).toBe("/ops/runs?cursor=abc");
    expect(safeNextPath("//evil.example")).toBeUndefined();
    expect(safeNextPath("/\\evil.example")).toBeUndefined();
    expect(safeNextPath("https://evil.example")).toBeUndefined();
    expect(safeNextPath(undefined)).toBeUndefined();
  });
});
