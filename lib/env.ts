import { readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { type ChartOfAccounts, defaultChartOfAccounts, parseChartOfAccounts } from "./chart-of-accounts";
import { SLICED_FUNCTION_MAX_DURATION_SECONDS } from "./function-durations";
import { type PlanMap, planMapSchema } from "./schemas/billing";

// Every setting Payrun reads, parsed in one place. `loadEnv` throws one error naming every bad
// variable; instrumentation.ts and the scripts call it first thing so a bad value stops the process.

const bool = z
  .enum(["true", "false", "1", "0", ""])
  .transform((v) => v === "true" || v === "1")
  .default(false);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v));
const optionalUrl = optionalString.pipe(z.url().optional());
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);
const percent = (def: number) => z.coerce.number().min(0).max(100).default(def);

/**
 * Per-currency amounts in cents: JSON (`{"usd":500000}`) or a list (`usd:500000,eur:400000`). Empty:
 * none. Currency codes are lowercased; amounts are whole, non-negative cents.
 */
export function parseCentsByCurrency(text: string): Record<string, number> | string {
  const trimmed = text.trim();
  if (trimmed === "") return {};
  let pairs: [string, unknown][];
  if (trimmed.startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
        return "must be a JSON object of currency to cents";
      pairs = Object.entries(parsed);
    } catch {
      return "is not valid JSON";
    }
  } else {
    pairs = trimmed.split(",").map((part) => {
      const [currency = "", amount = ""] = part.split(":").map((x) => x.trim());
      return [currency, amount === "" ? Number.NaN : Number(amount)];
    });
  }
  const out: Record<string, number> = {};
  for (const [currency, amount] of pairs) {
    if (!/^[a-zA-Z]{3}$/.test(currency))
      return `"${currency.slice(0, 10)}" is not a three-letter currency code`;
    if (typeof amount !== "number" || !Number.isSafeInteger(amount) || amount < 0)
      return `the amount for ${currency} must be whole, non-negative cents`;
    out[currency.toLowerCase()] = amount;
  }
  return out;
}

const centsByCurrency = z
  .string()
  .optional()
  .transform((text, ctx) => {
    const parsed = parseCentsByCurrency(text ?? "");
    if (typeof parsed === "string") {
      ctx.addIssue({ code: "custom", message: `${parsed} (e.g. {"usd":500000} or usd:500000,eur:400000)` });
      return z.NEVER;
    }
    return parsed;
  });

const timezone = z
  .string()
  .default("UTC")
  .refine(
    (tz) => {
      try {
        new Intl.DateTimeFormat("en-US", { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    },
    { message: "is not an IANA time zone (e.g. UTC, Europe/London)" },
  );

export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  // Vercel sets VERCEL=1; only a deployed production build is strict about missing secrets.
  VERCEL: optionalString,
  // A production build run on this machine, not deployed: `next start` forces NODE_ENV=production,
  // so npm start, the browser tests and the benchmarks say so with PAYRUN_LOCAL=1. Never on Vercel.
  PAYRUN_LOCAL: bool,

  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
      .optional(),
  ),
  PGLITE_DIR: z.string().default(".data/pglite"),

  CRON_SECRET_KEY: optionalString.pipe(z.string().min(16, "must be at least 16 characters").optional()),

  STRIPE_SECRET_KEY: optionalString.pipe(
    z
      .string()
      .regex(/^(sk|rk)_(live|test)_/, "must start with sk_live_, sk_test_, rk_live_ or rk_test_")
      .optional(),
  ),
  STRIPE_WEBHOOK_SECRET: optionalString.pipe(z.string().startsWith("whsec_", "must start with whsec_").optional()),
  // Previous secret, still accepted during a rotation.
  STRIPE_WEBHOOK_SECRET_PREVIOUS: optionalString,
  STRIPE_CONNECT_WEBHOOK_SECRET: optionalString.pipe(
    z.string().startsWith("whsec_", "must start with whsec_").optional(),
  ),
  STRIPE_CONNECT_WEBHOOK_SECRET_PREVIOUS: optionalString,
  STRIPE_API_BASE_URL: optionalUrl,
  STRIPE_SIMULATOR_PORT: int(12111, 1, 65535),
  STRIPE_SIMULATOR_WEBHOOK_URL: optionalUrl,
  STRIPE_SIMULATOR_PLATFORM_BALANCE_CENTS: int(100_000_000),
  // Stripe's documented limits; the run's client-side limiter keeps under them.
  STRIPE_RATE_LIMIT_PER_SECOND: int(100, 1),
  STRIPE_RATE_LIMIT_PER_ENDPOINT: int(25, 1),
  STRIPE_PAYOUT_RATE_LIMIT: int(15, 1),
  // Meter events (usage export) have their own limit, apart from the global one.
  STRIPE_METER_EVENT_RATE_LIMIT: int(1000, 1),

  QSTASH_TOKEN: optionalString,
  QSTASH_URL: optionalUrl,
  QSTASH_CURRENT_SIGNING_KEY: optionalString,
  QSTASH_NEXT_SIGNING_KEY: optionalString,

  PAYOUT_MIN_THRESHOLD_CENTS: int(1000),
  // Four-eyes: a payout above this (per currency, cents) waits as awaiting_approval until a
  // platform_admin or finance user approves it (lib/payouts/approval.ts). Unset currency: no approval.
  PAYOUT_APPROVAL_THRESHOLD_CENTS: centsByCurrency,
  PAYOUT_RESERVE_PERCENT: percent(0),
  PAYOUT_RESERVE_DAYS: int(30, 0, 3650),
  // Money the platform had to give back without taking it from the payee at Stripe (a refund made
  // without reverse_transfer, a lost dispute): take the payee's share back with a transfer reversal
  // (reverse_transfer), or let the platform bear it (none).
  PAYEE_RECOVERY_POLICY: z.enum(["reverse_transfer", "none"]).default("reverse_transfer"),
  // Alert (Slack, Sentry) when more payouts than this on connected accounts carried none of Payrun's
  // money in the last 24 h (stripe_payout_missing_transfers), and when a sweep failed more items
  // than this in the last 24 h.
  RECON_PAYOUT_MISSING_TRANSFERS_THRESHOLD: int(0),
  SWEEP_FAILURE_ALERT_THRESHOLD: int(0),
  // A difference with Stripe younger than this is money still on its way (a webhook seconds behind
  // its balance transaction), not a break; reconciliation looks at it again next hour.
  RECON_GRACE_SECONDS: int(300, 0, 86_400),
  PLATFORM_DEFAULT_CURRENCY: z
    .string()
    .regex(/^[a-zA-Z]{3}$/, "must be a three-letter ISO currency code")
    .transform((c) => c.toLowerCase())
    .default("usd"),
  PLATFORM_FEE_PERCENT: percent(10),
  PAYOUT_TIMEZONE: timezone,
  PAYOUT_ROLLOUT: z.enum(["all", "beta"]).default("all"),
  PAYOUTS_PAUSED: bool,
  // Invoice capture and refund (lib/billing): off (refused), pilot (invoices whose billing party is
  // flagged billing_pilot only), general (every invoice). docs/BILLING.md "Rollout stages".
  BILLING_ROLLOUT_STAGE: z.enum(["off", "pilot", "general"]).default("off"),
  // The maxDuration the run, its continuations and the sweeps plan their slices for (a third of it).
  // vercel.json sets the real one and is the default; this may only shorten it, for tests and drills.
  PAYOUT_FUNCTION_MAX_DURATION_SECONDS: z.coerce
    .number()
    .int()
    .min(10)
    .max(SLICED_FUNCTION_MAX_DURATION_SECONDS, {
      message: `may only shorten the maxDuration vercel.json gives the run and sweep functions (${SLICED_FUNCTION_MAX_DURATION_SECONDS} s)`,
    })
    .default(SLICED_FUNCTION_MAX_DURATION_SECONDS),
  // How long a claimed payout stays with the slice that claimed it; default: one slice + 30 s.
  PAYOUT_LEASE_SECONDS: optionalString.pipe(z.coerce.number<string | undefined>().int().min(5).max(3600).optional()),
  // Instant payouts on demand (lib/instant-payouts): the platform's fee, a percent of the amount
  // taken with a minimum in cents, and per payee per UTC day at most this many instant payouts and
  // this much money (gross, fee included).
  INSTANT_PAYOUT_FEE_PERCENT: percent(1.5),
  INSTANT_PAYOUT_FEE_MIN_CENTS: int(50),
  INSTANT_PAYOUT_DAILY_COUNT: int(3, 0, 1000),
  INSTANT_PAYOUT_DAILY_LIMIT_CENTS: int(500_000),
  // Hours after an invoice is paid before a placement share counts as collectible.
  PLACEMENT_CLEARING_DELAY_HOURS: int(24, 0, 24 * 90),
  // Where outbox events (placement.status_changed, ...) are published.
  OUTBOX_WEBHOOK_URL: optionalUrl,

  // The chart of accounts the journal export and the trial balance book to (lib/chart-of-accounts,
  // docs/ACCOUNTING.md): a JSON file, or the JSON itself, replacing lib/chart-of-accounts/gl-map.default.json
  // whole. Every ledger account must be mapped; checked here, at start.
  ACCOUNTING_GL_MAP_FILE: optionalString,
  ACCOUNTING_GL_MAP: optionalString,
  // The books' day: the journal's from/to dates and its date column, and a trial balance at a date.
  ACCOUNTING_TIMEZONE: timezone,
  // The plan map (lib/billing/plans.ts, docs/BILLING.md "Plans and prices"): JSON in BILLING_PLANS, or
  // a JSON file at BILLING_PLANS_FILE (not both). On the simulator with neither, the simulator's own
  // catalogue (lib/stripe/simulator/billing-plans.json), whose prices the simulator seeds.
  BILLING_PLANS: optionalString,
  BILLING_PLANS_FILE: optionalString,

  SLACK_PAYOUT_WEBHOOK_URL: optionalUrl,
  PAYOUT_ALERT_EMAIL: optionalString.pipe(z.email().optional()),
  SENTRY_DSN: optionalUrl,

  SUPABASE_URL: optionalUrl,
  SUPABASE_ANON_KEY: optionalString,
  SUPABASE_JWT_SECRET: optionalString,
  APP_BASE_URL: z.url().default("http://localhost:3000"),
});

export type RawEnv = z.infer<typeof envSchema>;

export type Env = RawEnv & {
  /** NODE_ENV=production and not a local run (PAYRUN_LOCAL): Supabase is required, no demo sign-in. */
  production: boolean;
  /** Production on Vercel: every secret is required as well and no stand-in may run. */
  strict: boolean;
  databaseMode: "postgres" | "pglite";
  stripeMode: "live" | "test" | "simulator";
  schedulerMode: "qstash" | "local";
  /**
   * Decided by Supabase's own settings, never inferred from another service's: "supabase" when
   * SUPABASE_URL and SUPABASE_ANON_KEY are set; else "local" (the demo sign-in and its public
   * signing secret) only when the whole app is on the embedded default and not in production
   * (embeddedDefault); else "none": nobody can sign in.
   */
  authMode: "supabase" | "local" | "none";
  /** ACCOUNTING_GL_MAP(_FILE), else the default map: a GL account for every ledger account. */
  chartOfAccounts: ChartOfAccounts;
  /** The configured plans (empty when none are configured: the billing API then refuses with 412). */
  billingPlans: PlanMap;
  /** Where billingPlans came from, for messages: BILLING_PLANS, the file's path, or "none". */
  billingPlansSource: string;
};

/** The plan map the simulator seeds prices for (used on the simulator when no plans are configured). */
export const SIMULATOR_PLANS_FILE = "lib/stripe/simulator/billing-plans.json";

/**
 * The plan map from BILLING_PLANS (JSON) or BILLING_PLANS_FILE, validated, with one problem line
 * naming the variable and every bad field; on the simulator with neither set, the simulator's file.
 */
export function readBillingPlans(
  raw: Pick<RawEnv, "BILLING_PLANS" | "BILLING_PLANS_FILE">,
  simulator: boolean,
): { plans: PlanMap; source: string } | { problem: string } {
  let name: string;
  let text: string;
  if (raw.BILLING_PLANS !== undefined && raw.BILLING_PLANS_FILE !== undefined)
    return { problem: "BILLING_PLANS and BILLING_PLANS_FILE: set one of them, not both" };
  if (raw.BILLING_PLANS !== undefined) {
    name = "BILLING_PLANS";
    text = raw.BILLING_PLANS;
  } else {
    const file = raw.BILLING_PLANS_FILE ?? (simulator ? SIMULATOR_PLANS_FILE : undefined);
    if (file === undefined) return { plans: {}, source: "none" };
    name = raw.BILLING_PLANS_FILE !== undefined ? "BILLING_PLANS_FILE" : `${SIMULATOR_PLANS_FILE} (the simulator's plans)`;
    try {
      text = readFileSync(path.resolve(/*turbopackIgnore: true*/ process.cwd(), file), "utf8");
    } catch (error) {
      return { problem: `${name}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "error"})` };
    }
    name = `${name} (${file})`;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: `${name}: is not valid JSON` };
  }
  const parsed = planMapSchema.safeParse(value);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join(".") || "(plans)"} ${i.message}`).join("; ");
    return { problem: `${name}: not a valid plan map: ${fields}` };
  }
  return { plans: parsed.data, source: name };
}

/** The key used against the local simulator when STRIPE_SECRET_KEY is unset: Stripe never issues it. */
export const SIMULATOR_SECRET_KEY = "sk_test_simulator";

const LOOPBACK_HOSTS = new Set(["", "localhost", "[::1]", "::1"]);
const isLoopbackHost = (hostname: string) => LOOPBACK_HOSTS.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);

/**
 * The whole app on the embedded default, where the demo sign-in's public secret can reach nothing
 * real: not in production and not on Vercel, Supabase's sign-in unset, Stripe on the simulator's
 * own key (a real key moves real money, whatever STRIPE_API_BASE_URL says), no QStash (the app is
 * not reachable from outside), and the database embedded or on this machine.
 */
export function embeddedDefault(raw: RawEnv, production: boolean): boolean {
  const databaseHere = raw.DATABASE_URL === undefined || isLoopbackHost(new URL(raw.DATABASE_URL).hostname);
  return (
    !production &&
    raw.VERCEL === undefined &&
    raw.SUPABASE_URL === undefined &&
    raw.SUPABASE_ANON_KEY === undefined &&
    (raw.STRIPE_SECRET_KEY === undefined || raw.STRIPE_SECRET_KEY === SIMULATOR_SECRET_KEY) &&
    raw.QSTASH_TOKEN === undefined &&
    databaseHere
  );
}

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "EnvError";
  }
}

const SECRETS_REQUIRED_IN_PRODUCTION = [
  "DATABASE_URL",
  "CRON_SECRET_KEY",
  "STRIPE_SECRET_KEY",
  "STRIPE_WEBHOOK_SECRET",
  "STRIPE_CONNECT_WEBHOOK_SECRET",
  "QSTASH_TOKEN",
  "QSTASH_CURRENT_SIGNING_KEY",
  "QSTASH_NEXT_SIGNING_KEY",
  "SUPABASE_URL",
  "SUPABASE_ANON_KEY",
] as const;

export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join(".") || "(root)";
      // Never echo the value: it may be a secret.
      return `${name}: ${issue.message}`;
    });
    throw new EnvError(problems);
  }
  const raw = parsed.data;
  const production = raw.NODE_ENV === "production" && !raw.PAYRUN_LOCAL;
  const strict = production && raw.VERCEL === "1";
  const supabaseSignIn = raw.SUPABASE_URL !== undefined && raw.SUPABASE_ANON_KEY !== undefined;
  const problems: string[] = [];
  if (raw.PAYRUN_LOCAL && raw.VERCEL !== undefined) {
    problems.push("PAYRUN_LOCAL: must not be set on Vercel (a deployment is never a local run)");
  }
  if (strict) {
    problems.push(
      ...SECRETS_REQUIRED_IN_PRODUCTION.filter((name) => raw[name] === undefined).map(
        (name) => `${name}: is required in production`,
      ),
    );
    if (raw.SUPABASE_JWT_SECRET === undefined && raw.SUPABASE_URL === undefined) {
      problems.push("SUPABASE_JWT_SECRET: is required in production (or SUPABASE_URL for its JWKS)");
    }
    if (raw.STRIPE_API_BASE_URL !== undefined) {
      problems.push("STRIPE_API_BASE_URL: must not point Stripe elsewhere in production");
    }
  } else if (production && !supabaseSignIn) {
    problems.push(
      "SUPABASE_URL and SUPABASE_ANON_KEY: are required in production (NODE_ENV=production): without them " +
        "nobody can sign in, and the local demo sign-in never runs in production. A production build run " +
        "on this machine (npm start, the browser tests) sets PAYRUN_LOCAL=1.",
    );
  }
  const chart = loadChartOfAccounts(raw);
  if ("problems" in chart) problems.push(...chart.problems);
  const stripeMode: Env["stripeMode"] =
    raw.STRIPE_SECRET_KEY === undefined || raw.STRIPE_API_BASE_URL !== undefined
      ? "simulator"
      : raw.STRIPE_SECRET_KEY.includes("_live_")
        ? "live"
        : "test";
  const billing = readBillingPlans(raw, stripeMode === "simulator");
  if ("problem" in billing) problems.push(billing.problem);
  else if (strict && billing.source === "none")
    problems.push("BILLING_PLANS or BILLING_PLANS_FILE: is required in production (the plan map, see docs/BILLING.md)");
  if (problems.length > 0 || "problems" in chart) throw new EnvError(problems);

  return {
    ...raw,
    production,
    strict,
    databaseMode: raw.DATABASE_URL ? "postgres" : "pglite",
    stripeMode,
    schedulerMode: raw.QSTASH_TOKEN ? "qstash" : "local",
    authMode: supabaseSignIn ? "supabase" : embeddedDefault(raw, production) ? "local" : "none",
    chartOfAccounts: chart.chart,
    billingPlans: "plans" in billing ? billing.plans : {},
    billingPlansSource: "plans" in billing ? billing.source : "none",
  };
}

/** The chart of accounts from ACCOUNTING_GL_MAP_FILE or ACCOUNTING_GL_MAP (never both), else the default. */
function loadChartOfAccounts(raw: RawEnv): { chart: ChartOfAccounts } | { problems: string[] } {
  if (raw.ACCOUNTING_GL_MAP_FILE !== undefined && raw.ACCOUNTING_GL_MAP !== undefined) {
    return { problems: ["ACCOUNTING_GL_MAP_FILE and ACCOUNTING_GL_MAP: set one of them, not both"] };
  }
  let text: string;
  let source: string;
  if (raw.ACCOUNTING_GL_MAP_FILE !== undefined) {
    source = `ACCOUNTING_GL_MAP_FILE (${raw.ACCOUNTING_GL_MAP_FILE})`;
    try {
      text = readFileSync(raw.ACCOUNTING_GL_MAP_FILE, "utf8");
    } catch (error) {
      return {
        problems: [`${source}: cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`],
      };
    }
  } else if (raw.ACCOUNTING_GL_MAP !== undefined) {
    source = "ACCOUNTING_GL_MAP";
    text = raw.ACCOUNTING_GL_MAP;
  } else {
    return { chart: defaultChartOfAccounts() };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { problems: [`${source}: is not valid JSON (${(error as Error).message})`] };
  }
  return parseChartOfAccounts(parsed, source);
}

let cached: Env | undefined;
let announced = false;

/** The process's configuration, parsed once. */
export function getEnv(): Env {
  if (!cached) {
    cached = loadEnv();
    if (!announced && cached.NODE_ENV !== "test") {
      announced = true;
      for (const line of describeStandIns(cached)) console.info(`[payrun] ${line}`);
    }
  }
  return cached;
}

/** Tests and scripts that change process.env call this so the next getEnv() reads it again. */
export function resetEnvCache(): void {
  cached = undefined;
}

/** One line per embedded stand-in in use, logged once at start. */
export function describeStandIns(env: Env): string[] {
  const lines: string[] = [];
  if (env.databaseMode === "pglite") lines.push(`DATABASE_URL unset: embedded PGlite in ${env.PGLITE_DIR}`);
  if (env.stripeMode === "simulator")
    lines.push(
      `Stripe: local simulator at ${env.STRIPE_API_BASE_URL ?? `http://127.0.0.1:${env.STRIPE_SIMULATOR_PORT}`}`,
    );
  if (env.schedulerMode === "local") lines.push("QSTASH_TOKEN unset: local scheduler and dispatcher");
  if (env.authMode === "local") lines.push("Supabase unset: local demo sign-in");
  else if (env.authMode === "none")
    lines.push(
      "Supabase unset and not the embedded default (a real Stripe key, QStash, a remote database or Vercel): " +
        "nobody can sign in until SUPABASE_URL and SUPABASE_ANON_KEY are set",
    );
  return lines;
}
