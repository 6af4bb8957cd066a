import { describe, expect, it } from "vitest";
import { issueLocalToken, verifyAccessToken } from "../../lib/auth/user";
import { EnvError, loadEnv, SIMULATOR_SECRET_KEY } from "../../lib/env";

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
      loadEnv({
        PAYOUT_MIN_THRESHOLD_CENTS: "ten",
        PAYOUT_TIMEZONE: "Mars/Olympus",
        STRIPE_SECRET_KEY: "pk_live_oops",
      });
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

  it("a production build run on this machine (npm start: PAYRUN_LOCAL=1) may use the stand-ins", () => {
    const env = loadEnv({ NODE_ENV: "production", PAYRUN_LOCAL: "1" });
    expect(env.strict).toBe(false);
    expect(env.production).toBe(false);
    expect(env.authMode).toBe("local");
  });

  it("tells live from test keys", () => {
    expect(loadEnv({ STRIPE_SECRET_KEY: "sk_live_abc" }).stripeMode).toBe("live");
    expect(loadEnv({ STRIPE_SECRET_KEY: "sk_test_abc" }).stripeMode).toBe("test");
  });
});

// Issue 11, item 4: the auth mode was inferred from the Stripe settings, so a self-hosted production
// (NODE_ENV=production, no VERCEL, no Supabase) with a live key sent through STRIPE_API_BASE_URL ran
// the demo sign-in, and the public local secret signed admin tokens.
const SUPABASE = {
  SUPABASE_URL: "https://p.supabase.co",
  SUPABASE_ANON_KEY: "anon",
  SUPABASE_JWT_SECRET: "s".repeat(32),
};
const VERCEL_SECRETS = {
  DATABASE_URL: "postgres://u@db.example.com:5432/payrun",
  CRON_SECRET_KEY: "c".repeat(32),
  STRIPE_WEBHOOK_SECRET: "whsec_a",
  STRIPE_CONNECT_WEBHOOK_SECRET: "whsec_b",
  QSTASH_TOKEN: "q",
  QSTASH_CURRENT_SIGNING_KEY: "sig_a",
  QSTASH_NEXT_SIGNING_KEY: "sig_b",
  BILLING_PLANS_FILE: "lib/stripe/simulator/billing-plans.json",
};

describe("who may use the local demo sign-in", () => {
  it("the reviewer's self-hosted production does not start: Supabase is required", () => {
    const selfHosted = {
      NODE_ENV: "production",
      STRIPE_SECRET_KEY: "sk_live_abc",
      STRIPE_API_BASE_URL: "https://proxy.example",
    };
    expect(() => loadEnv(selfHosted)).toThrow(EnvError);
    expect(() => loadEnv(selfHosted)).toThrow(
      /SUPABASE_URL and SUPABASE_ANON_KEY: are required in production/,
    );
    expect(() => loadEnv({ NODE_ENV: "production" })).toThrow(/SUPABASE_URL/);
    // With Supabase it starts, and the mode is Supabase's, whatever Stripe says.
    expect(loadEnv({ ...selfHosted, ...SUPABASE }).authMode).toBe("supabase");
  });

  it("a real Stripe key, through a proxy or not, never gets the demo sign-in", () => {
    for (const key of ["sk_live_abc", "sk_test_abc", "rk_live_abc"]) {
      expect(loadEnv({ STRIPE_SECRET_KEY: key }).authMode).toBe("none");
      expect(
        loadEnv({ STRIPE_SECRET_KEY: key, STRIPE_API_BASE_URL: "http://127.0.0.1:12111" }).authMode,
      ).toBe("none");
      expect(loadEnv({ STRIPE_SECRET_KEY: key, NODE_ENV: "production", PAYRUN_LOCAL: "1" }).authMode).toBe(
        "none",
      );
    }
    expect(
      loadEnv({ STRIPE_SECRET_KEY: SIMULATOR_SECRET_KEY, STRIPE_API_BASE_URL: "http://127.0.0.1:12111" })
        .authMode,
    ).toBe("local");
  });

  it("nor does an app with QStash, a remote database, or on Vercel", () => {
    expect(loadEnv({ QSTASH_TOKEN: "q" }).authMode).toBe("none");
    expect(loadEnv({ DATABASE_URL: "postgres://u@db.example.com/payrun" }).authMode).toBe("none");
    expect(loadEnv({ DATABASE_URL: "postgres://postgres@127.0.0.1:5432/test" }).authMode).toBe("local");
    expect(loadEnv({ VERCEL: "1" }).authMode).toBe("none");
    expect(() => loadEnv({ VERCEL: "1", PAYRUN_LOCAL: "1" })).toThrow(
      /PAYRUN_LOCAL: must not be set on Vercel/,
    );
  });

  it("every combination of NODE_ENV, VERCEL, Supabase, Stripe key and base URL", async () => {
    const nodeEnvs = ["development", "test", "production"] as const;
    const vercels = [undefined, "1"] as const;
    const locals = [undefined, "1"] as const;
    const supabases = [false, true] as const;
    const keys = [undefined, SIMULATOR_SECRET_KEY, "sk_test_abc", "sk_live_abc"] as const;
    const baseUrls = [undefined, "https://proxy.example"] as const;
    let combinations = 0;
    for (const NODE_ENV of nodeEnvs)
      for (const VERCEL of vercels)
        for (const PAYRUN_LOCAL of locals)
          for (const supabase of supabases)
            for (const STRIPE_SECRET_KEY of keys)
              for (const STRIPE_API_BASE_URL of baseUrls) {
                combinations++;
                const source: Record<string, string | undefined> = {
                  NODE_ENV,
                  VERCEL,
                  PAYRUN_LOCAL,
                  STRIPE_SECRET_KEY,
                  STRIPE_API_BASE_URL,
                  ...(supabase ? SUPABASE : {}),
                  ...(VERCEL ? VERCEL_SECRETS : {}),
                };
                const label = JSON.stringify({
                  NODE_ENV,
                  VERCEL,
                  PAYRUN_LOCAL,
                  supabase,
                  STRIPE_SECRET_KEY,
                  STRIPE_API_BASE_URL,
                });
                const production = NODE_ENV === "production" && !PAYRUN_LOCAL;
                const refused =
                  (PAYRUN_LOCAL !== undefined && VERCEL !== undefined) ||
                  (production && !supabase) ||
                  (production &&
                    VERCEL !== undefined &&
                    (STRIPE_SECRET_KEY === undefined || STRIPE_API_BASE_URL !== undefined));
                if (refused) {
                  expect(() => loadEnv(source), label).toThrow(EnvError);
                  continue;
                }
                const env = loadEnv(source);
                const demo =
                  !production &&
                  VERCEL === undefined &&
                  !supabase &&
                  (STRIPE_SECRET_KEY === undefined || STRIPE_SECRET_KEY === SIMULATOR_SECRET_KEY);
                expect(env.authMode, label).toBe(supabase ? "supabase" : demo ? "local" : "none");
                // The public local secret signs a token that verifies only where the demo sign-in runs.
                if (demo) {
                  const token = await issueLocalToken({ userId: "u", role: "platform_admin" }, env);
                  expect(await verifyAccessToken(token, env), label).toMatchObject({
                    role: "platform_admin",
                  });
                } else {
                  const local = loadEnv({});
                  const forged = await issueLocalToken({ userId: "u", role: "platform_admin" }, local);
                  expect(await verifyAccessToken(forged, env), label).toBeNull();
                  await expect(
                    issueLocalToken(
                      { userId: "u", role: "platform_admin" },
                      { ...env, SUPABASE_JWT_SECRET: undefined },
                    ),
                    label,
                  ).rejects.toThrow();
                }
              }
    expect(combinations).toBe(3 * 2 * 2 * 2 * 4 * 2);
  });
});

describe("the billing plan map", () => {
  const plans = { starter: { basePrice: "price_a", meters: { placements: "price_b" } } };
  it("reads BILLING_PLANS or BILLING_PLANS_FILE, with defaults for currency and interval", () => {
    const env = loadEnv({ BILLING_PLANS: JSON.stringify(plans) });
    expect(env.billingPlans).toEqual({
      starter: {
        basePrice: "price_a",
        meters: { placements: "price_b" },
        currency: "usd",
        interval: "month",
      },
    });
    expect(
      loadEnv({ BILLING_PLANS_FILE: "lib/stripe/simulator/billing-plans.json" }).billingPlans.enterprise
        ?.basePrice,
    ).toMatch(/^price_/);
    // On the simulator with neither: the simulator's own plans.
    expect(Object.keys(loadEnv({}).billingPlans)).toEqual(["starter", "business", "enterprise"]);
    // A real key with none: no plans (the billing API answers 412); in production on Vercel: refused.
    expect(loadEnv({ STRIPE_SECRET_KEY: "sk_test_abc" }).billingPlans).toEqual({});
  });
  it("refuses a bad map with one message naming the variable and each bad field", () => {
    expect(() => loadEnv({ BILLING_PLANS: "{nope" })).toThrow(/BILLING_PLANS: is not valid JSON/);
    expect(() =>
      loadEnv({
        BILLING_PLANS: JSON.stringify({
          starter: { basePrice: "prod_x", meters: { "bad meter": "price_y" } },
        }),
      }),
    ).toThrow(
      /BILLING_PLANS: not a valid plan map: starter.basePrice must be a Stripe price id.*starter.meters.bad meter/,
    );
    expect(() => loadEnv({ BILLING_PLANS: "{}" })).toThrow(/must define at least one plan/);
    expect(() => loadEnv({ BILLING_PLANS: JSON.stringify(plans), BILLING_PLANS_FILE: "x.json" })).toThrow(
      /set one of them, not both/,
    );
    expect(() => loadEnv({ BILLING_PLANS_FILE: "no/such/file.json" })).toThrow(
      /BILLING_PLANS_FILE: cannot read no\/such\/file.json \(ENOENT\)/,
    );
  });
});
