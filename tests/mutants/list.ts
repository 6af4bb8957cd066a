// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the breaks are source text, placeholders and all
// The mutation drill's curated breaks of the money path (`npm run test:mutants`, lib/cli/mutants.ts).
// Each mutant is one small, plausible mistake: its edits (exact text, found exactly once in its
// file), why it matters, and the tests that must catch it, per vitest project. A new rule on the
// money path gets a mutant here and a test that kills it. Keep the mapped tests few: each mutant
// runs only its own.

export type TestGroup = { project: "unit" | "pglite" | "postgres"; files: string[] };
export type Edit = { file: string; find: string; replace: string };
export type Mutant = {
  id: string;
  /** The first edit's file (what the list shows). */
  file: string;
  find: string;
  replace: string;
  /** Further edits applied with the first (one mistake may span two files). */
  more?: Edit[];
  why: string;
  tests: TestGroup[];
};

const pglite = (...files: string[]): TestGroup => ({ project: "pglite", files });
const postgres = (...files: string[]): TestGroup => ({ project: "postgres", files });
const unit = (...files: string[]): TestGroup => ({ project: "unit", files });

const LEDGER = "tests/integration/ledger/ledger.test.ts";
const KEYS = "tests/integration/payouts/idempotency-keys.test.ts";
const CRASH = "tests/integration/payouts/crash.test.ts";
const PLAN = "tests/integration/payouts/plan-rules.test.ts";
const SMOKE = "tests/integration/payouts/smoke.test.ts";
const PAYOUT_EVENTS = "tests/integration/webhooks/payout-events.test.ts";
const REFUNDS = "tests/integration/webhooks/refund-orders.test.ts";

export const MUTANTS: Mutant[] = [
  {
    id: "ledger-balance-check",
    file: "db/migrations/0005_set_based_reference_checks.sql",
    find: `  ELSIF FOUND THEN
    RAISE EXCEPTION 'ledger transaction % is unbalanced in %: entries sum to %', bad.transaction_id, bad.currency, bad.total
      USING ERRCODE = 'check_violation';
  END IF;`,
    replace: "  END IF;",
    why: "the database accepts a transaction of two or more entries that does not sum to zero",
    tests: [pglite(LEDGER)],
  },
  {
    id: "transfer-key-random",
    file: "lib/payouts/process-payout.ts",
    find: "idempotencyKey: p.transferIdempotencyKey!,",
    replace: "idempotencyKey: `transfer:${crypto.randomUUID()}`,",
    why: "a transfer's Stripe idempotency key is not the one stored on the row (payoutKey(row, 'transfer'))",
    tests: [pglite(KEYS)],
  },
  {
    id: "payout-key-random",
    file: "lib/payouts/process-payout.ts",
    find: "idempotencyKey: p.payoutIdempotencyKey,",
    replace: "idempotencyKey: `payout:${crypto.randomUUID()}`,",
    why: "a payout's Stripe idempotency key is not the one stored on the row (payoutKey(row, 'payout'))",
    tests: [pglite(KEYS)],
  },
  {
    id: "gateway-key-per-request",
    file: "lib/stripe/gateway.ts",
    find: "method: input.method,\n          }),\n          requestOptions(input.idempotencyKey, input.stripeAccount),",
    replace: "method: input.method,\n          }),\n          requestOptions(`${input.idempotencyKey}:${crypto.randomUUID()}`, input.stripeAccount),",
    why: "the call path's retry of a payout sends a new key: a lost response makes a second payout",
    tests: [pglite(KEYS)],
  },
  {
    id: "lookup-24h-path",
    file: "lib/payouts/process-payout.ts",
    find: "const attemptedBefore = p.attempts > 1 || Date.now() - p.firstAttemptAt.getTime() > IDEMPOTENCY_WINDOW_MS;",
    replace: "const attemptedBefore = p.attempts > 1;",
    why: "a payout first attempted over 24 hours ago (Stripe forgot the key) is sent without a lookup",
    tests: [pglite(CRASH)],
  },
  {
    id: "lookup-window-48h",
    file: "lib/payouts/process-payout.ts",
    find: "export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;",
    replace: "export const IDEMPOTENCY_WINDOW_MS = 48 * 60 * 60 * 1000;",
    why: "the lookup window is longer than Stripe's 24-hour memory of a key",
    tests: [pglite(CRASH)],
  },
  {
    id: "threshold-off-by-one",
    file: "lib/payouts/plan-sql.ts",
    find: "when c.amount < greatest(",
    replace: "when c.amount <= greatest(",
    why: "a balance of exactly PAYOUT_MIN_THRESHOLD_CENTS is skipped",
    tests: [pglite(PLAN)],
  },
  {
    id: "payee-minimum-off-by-one",
    file: "lib/payouts/plan-sql.ts",
    find: "coalesce(ps.minimum_payout_cents, 0)",
    replace: "coalesce(ps.minimum_payout_cents - 1, 0)",
    why: "a balance one cent below the payee's own minimum is paid",
    tests: [pglite(PLAN)],
  },
  {
    id: "escrow-hold-paid-out",
    file: "lib/payouts/plan-sql.ts",
    find: "where a.owner_type = 'payee' and a.kind = 'available' ${payeeFilter}",
    replace: "where a.owner_type = 'payee' and a.kind in ('available', 'held') ${payeeFilter}",
    why: "money an escrow hold keeps is paid out with the rest",
    tests: [pglite(PLAN)],
  },
  {
    id: "reserve-rounding",
    file: "lib/money.ts",
    find: "return sign * Math.floor((abs + 5000) / 10000);",
    replace: "return sign * Math.floor(abs / 10000);",
    why: "a reserve or fee percentage truncates instead of rounding half away from zero",
    tests: [unit("tests/unit/money.test.ts")],
  },
  {
    id: "run-cycle-key-not-unique",
    file: "db/migrations/0000_init.sql",
    find: `CREATE UNIQUE INDEX "payout_runs_cycle_key_key"`,
    replace: `CREATE INDEX "payout_runs_cycle_key_key"`,
    more: [
      {
        file: "lib/payouts/run.ts",
        find: "on conflict (cycle_key) where not dry_run do nothing",
        replace: "on conflict do nothing",
      },
    ],
    why: "two triggers of one cycle make two runs (and pay twice)",
    tests: [postgres("tests/postgres/payouts/concurrent-trigger.test.ts")],
  },
  {
    id: "claim-without-skip-locked",
    file: "lib/payouts/claim.ts",
    find: "      for update skip locked\n",
    replace: "      for update\n",
    why: "a claim waits behind another executor's locked rows instead of taking the others",
    tests: [postgres("tests/postgres/payouts/claim.test.ts")],
  },
  {
    id: "claim-without-lock",
    file: "lib/payouts/claim.ts",
    find: "      for update skip locked\n",
    replace: "\n",
    why: "two executors claiming at once both take the same payouts",
    tests: [postgres("tests/postgres/payouts/claim.test.ts")],
  },
  {
    id: "save-ignores-status",
    file: "lib/payouts/process-payout.ts",
    find: '.where(and(eq(payouts.id, p.id), eq(payouts.status, "processing")))',
    replace: ".where(eq(payouts.id, p.id))",
    why: "the executor's save overwrites a payout another executor or a payout.paid webhook already settled",
    tests: [pglite(PAYOUT_EVENTS), postgres("tests/postgres/payouts/lease-overlap.test.ts")],
  },
  {
    id: "webhook-duplicate-reapplied",
    file: "lib/webhooks/ingest.ts",
    find: '  if (stored.status === "processed") return { status: "duplicate", eventId: event.id };\n',
    replace: "",
    more: [
      {
        file: "lib/webhooks/apply.ts",
        find: 'if (row.status === "processed" || row.status === "ignored") return { status: "duplicate" };',
        replace: 'if (row.status === "ignored") return { status: "duplicate" };',
      },
    ],
    why: "a redelivered event that was already applied is applied again",
    tests: [pglite(PAYOUT_EVENTS, "tests/integration/webhooks/intake.test.ts")],
  },
  {
    id: "paid-after-failed",
    file: "lib/payouts/settle.ts",
    find: 'if (payout.status === "paid" || payout.status === "failed") return',
    replace: 'if (payout.status === "paid") return',
    why: "a late payout.paid (out of order) turns a failed payout, whose funds went back, into paid",
    tests: [pglite(PAYOUT_EVENTS)],
  },
  {
    id: "transfer-reversal-not-delta",
    file: "lib/payouts/settle.ts",
    find: "const delta = input.amountReversed - payout.transferReversedCents;",
    replace: "const delta = input.amountReversed;",
    why: "a second partial reversal of a payout's transfer moves the cumulative amount again",
    tests: [pglite(PAYOUT_EVENTS)],
  },
  {
    id: "refund-keyed-by-charge",
    file: "lib/earnings/refunds.ts",
    find: "idempotencyKey: failed ? `${refundKey(refund.id)}:${refund.status}` : refundKey(refund.id),",
    replace: "idempotencyKey: failed ? `${refundKey(refund.id)}:${refund.status}` : refundKey(charge.id),",
    why: "the second refund of a charge is taken for a replay of the first and never posted",
    tests: [pglite(REFUNDS)],
  },
  {
    id: "refund-platform-part",
    file: "lib/earnings/refunds.ts",
    find: '{ account: "platform", object: refund.id, amount: sign * (reversed - refund.amount) },',
    replace: '{ account: "platform", object: refund.id, amount: sign * -refund.amount },',
    why: "a refund's platform stripeRefs ignore the transfer reversal that came back with it",
    tests: [pglite(REFUNDS)],
  },
  {
    id: "overdraft-guard",
    file: "db/migrations/0008_running_balances.sql",
    find: "   WHERE m.balance < 0 AND a.owner_type = 'payee'",
    replace: "   WHERE m.balance < -100000000 AND a.owner_type = 'payee'",
    why: "a payee's balance may go below zero",
    tests: [pglite(LEDGER)],
  },
  {
    id: "append-only-entries",
    file: "db/migrations/0001_ledger_guards.sql",
    find: "CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries",
    replace: "CREATE TRIGGER ledger_entries_append_only BEFORE DELETE ON ledger_entries",
    why: "a ledger entry's amount can be changed in place",
    tests: [pglite(LEDGER)],
  },
  {
    id: "append-only-transactions",
    file: "db/migrations/0001_ledger_guards.sql",
    find: "CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions",
    replace: "CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE ON ledger_transactions",
    why: "a ledger transaction can be deleted",
    tests: [pglite(LEDGER)],
  },
  {
    id: "pause-flag-ignored",
    file: "lib/payouts/pause.ts",
    find: "return (await readPauseFlag(db)).paused;",
    replace: "return false;",
    why: "ops' pause flag does not stop a run",
    tests: [pglite(SMOKE)],
  },
  {
    id: "api-payee-scope",
    file: "lib/api/with-user.ts",
    find: 'return user.role === "payee" ? (user.payeeId ?? "00000000-0000-0000-0000-000000000000") : undefined;',
    replace: "return undefined;",
    why: "a payee reading /api/v1 sees every payee's rows",
    tests: [pglite("tests/integration/api/roles.test.ts")],
  },
  {
    id: "cron-secret-any",
    file: "lib/auth/internal.ts",
    find: 'return secretsEqual(cronSecret, env.CRON_SECRET_KEY) ? { kind: "cron_secret" } : null;',
    replace: 'return cronSecret.length > 0 ? { kind: "cron_secret" } : null;',
    why: "any X-Cron-Secret is let into /internal/*",
    tests: [pglite(SMOKE)],
  },
  {
    id: "qstash-url-unchecked",
    file: "lib/auth/internal.ts",
    find: "receiver.verify({ signature, body: rawBody, url, clockTolerance: 5 })",
    replace: "receiver.verify({ signature, body: rawBody, clockTolerance: 5 })",
    why: "a QStash signature made for another URL is accepted",
    tests: [pglite("tests/integration/payouts/qstash-replay.test.ts")],
  },
  {
    id: "reconcile-ignores-amount",
    file: "lib/reconciliation/match.ts",
    find: "if (s && l && s.amount === l.amount) continue;",
    replace: "if (s && l) continue;",
    why: "reconciliation never finds an amount that disagrees with Stripe's",
    tests: [pglite("tests/integration/reconciliation/breaks.test.ts")],
  },
  {
    id: "payout-stripe-refs-amount",
    file: "lib/payouts/ledger.ts",
    find: "stripeRefs: [{ account: onAccount(p), object: stripePayoutId, amount: -p.amountCents }],",
    replace:
      "stripeRefs: [{ account: onAccount(p), object: stripePayoutId, amount: -p.transferAmountCents }],",
    why: "a payout's stripeRefs carry the transfer's amount instead of what the payout took",
    tests: [pglite("tests/integration/reconciliation/payouts.test.ts")],
  },
];
