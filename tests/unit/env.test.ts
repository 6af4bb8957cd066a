import { describe, expect, it } from "vitest";
import { EnvError, loadEnv } from "../../lib/env";

describe("configuration", () => {
  it("applies the documented defaults and picks the embedded stand-ins", () => {
    const env = loadEnv({});
    expect(env.PAYOUT_MIN_THRESHOLD_CENTS).toBe(1000);
    expect(env.PLATFORM_FEE_PERCENT).toBe(10);
    expect(env.PAYOUT_RESERVE_DAYS).toBe(30);
    expect(env.PAYOUT_TIMEZONE).toBe("UTC");
    expect(env.PAYOUT_ROLLOUT).toBe("all");
    expect(env.PAYOUTS_PAUSED).toBe(false);
    expect(env.PGLITE_DIR).toBe(".data/pglite");
    expect(env.databaseMode).toBe("pglite");
    expect(env.stripeMode).toBe("simulator");
    expect(env.schedulerMode).toBe("local");
    expect(env.authMode).toBe("local");
  });

  it("names every bad variable at once, without echoing values", () => {
    try {
      loadEnv({ PAYOUT_MIN_THRESHOLD_CENTS: "ten", PAYOUT_TIMEZONE: "Mars/Olympus", STRIPE_SECRET_KEY: "pk_live_oops" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(EnvError);
      const message = (error as Error).message;
      expect(message).toContain("PAYOUT_MIN_THRESHOLD_CENTS");
      expect(message).toContain("PAYOUT_TIMEZONE");
      expect(message).toContain("STRIPE_SECRET_KEY");
      expect(message).not.toContain("pk_live_oops");
    }
  });

  it("in production on Vercel a missing secret is an error", () => {
    expect(() => loadEnv({ NODE_ENV: "production", VERCEL: "1" })).toThrow(/CRON_SECRET_KEY: is required/);
  });

  it("a local production build (npm start) may use the stand-ins", () => {
    expect(loadEnv({ NODE_ENV: "production" }).strict).toBe(false);
  });

  it("tells live from test keys", () => {
    expect(loadEnv({ STRIPE_SECRET_KEY: "sk_live_abc" }).stripeMode).toBe("live");
    expect(loadEnv({ STRIPE_SECRET_KEY: "sk_test_abc" }).stripeMode).toBe("test");
  });
});

describe("who may use the local demo sign-in", () => {
  it("only the embedded default: Stripe simulator, Supabase unset, not deployed", () => {
    expect(loadEnv({}).authMode).toBe("local");
    expect(loadEnv({ NODE_ENV: "production" }).authMode).toBe("local");
    // A real Stripe key, even a test one, turns the public demo secret off.
    expect(loadEnv({ STRIPE_SECRET_KEY: "sk_test_abc" }).authMode).toBe("supabase");
    expect(loadEnv({ NODE_ENV: "production", STRIPE_SECRET_KEY: "sk_live_abc" }).authMode).toBe("supabase");
    expect(loadEnv({ SUPABASE_URL: "https://x.supabase.co", SUPABASE_ANON_KEY: "anon" }).authMode).toBe("supabase");
  });
});
