import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { Env } from "../env";
import { log } from "../observability/log";
import type { StripeGateway } from "../stripe/gateway";
import type { SweepDefinition } from "../sweeps/types";
import { reportReconciliationMetrics } from "./alerts";
import { checkBalanceDrift } from "./drift";
import { ingestAccount } from "./ingest";
import { matchAccount } from "./match";
import { backfillSettlements, describeForeignPayouts, linkPayoutsMadeByHand } from "./payouts";

export type ReconcileGateway = Pick<
  StripeGateway,
  "listBalanceTransactions" | "retrieveBalance" | "retrievePayout" | "retrieveInvoice" | "findInvoiceByPaymentIntent"
>;

export type ReconcileEnv = Pick<
  Env,
  | "RECON_GRACE_SECONDS"
  | "RECON_PAYOUT_MISSING_TRANSFERS_THRESHOLD"
  | "SWEEP_FAILURE_ALERT_THRESHOLD"
  | "APP_BASE_URL"
  | "PAYOUT_FUNCTION_MAX_DURATION_SECONDS"
>;

/** Matching looks again this far behind where the account's last pass stopped (late refs, late rows). */
const MATCH_OVERLAP_MS = 3_600_000;

/**
 * Accounts reconciled at once within a batch: enough round trips in flight to keep each endpoint at
 * Stripe's per-endpoint limit (25/s at 150-300 ms a call needs about 8 per endpoint); the limiter
 * paces them, so more only wait.
 */
const ACCOUNT_CONCURRENCY = 16;

type PassRow = { id: string; started_at: Date | string };
type AccountRow = { account: string; cursor_created: string | null; matched_until: Date | string | null };

/** The pass under way, if any. */
export async function runningPass(db: Db): Promise<PassRow | null> {
  const [row] = await queryRows<PassRow>(db, sql`select id, started_at from reconciliation_runs where status = 'running' limit 1`);
  return row ?? null;
}

/**
 * Start a pass unless one is under way: every account reconciliation looks at is registered (the
 * platform and every connected account Payrun knows) and the pass counts them. One pass at a time
 * (a unique index on the running pass); a second starter gets the running one.
 */
export async function startPass(db: Db): Promise<PassRow> {
  return db.transaction(async (tx) => {
    const current = await runningPass(tx);
    if (current) return current;
    await tx.execute(sql`
      insert into reconciliation_accounts (account)
      select 'platform' union all select stripe_account_id from connected_accounts
      on conflict (account) do nothing`);
    const [row] = await queryRows<PassRow>(
      tx,
      sql`insert into reconciliation_runs (accounts_total)
          select count(*) from reconciliation_accounts
          on conflict do nothing
          returning id, started_at`,
    );
    return row ?? (await runningPass(tx))!;
  });
}

/**
 * Claim up to `limit` accounts of the pass that no live invocation holds, with a lease: an
 * invocation that dies leaves its accounts to the next one when the lease ends, and an account is
 * never reconciled by two at once.
 */
async function claimAccounts(db: Db, input: { passId: string; owner: string; leaseSeconds: number; limit: number; now: Date }): Promise<AccountRow[]> {
  return queryRows<AccountRow>(
    db,
    sql`update reconciliation_accounts a
           set lease_owner = ${input.owner},
               lease_expires_at = ${input.now.toISOString()}::timestamptz + make_interval(secs => ${input.leaseSeconds})
         where a.account in (
           select account from reconciliation_accounts
            where pass_id is distinct from ${input.passId}
              and (lease_expires_at is null or lease_expires_at < ${input.now.toISOString()}::timestamptz)
            -- the platform first: its many pages then overlap with the connected accounts' calls
            order by account <> 'platform', account
            limit ${input.limit}
            for update skip locked)
        returning a.account, a.cursor_created, a.matched_until`,
  );
}

export type AccountOutcome = { ingested: number; opened: number; closed: number; settled: number };

/**
 * One account, in order: its new balance transactions stored; out-of-band payouts linked; what
 * changed since its last pass matched against the ledger; foreign payouts described; its balance
 * compared (only when something moved, or a drift is open); missed settlements read back from
 * Stripe. Every step is idempotent, so an account cut short is simply done again.
 */
export async function reconcileAccount(
  db: Db,
  gateway: ReconcileGateway,
  input: { account: string; cursorCreated: number | null; matchedUntil: Date | null; graceSeconds: number; pageSize?: number },
): Promise<AccountOutcome & { cursorCreated: number | null; startedAt: Date }> {
  const startedAt = new Date();
  const { account, graceSeconds } = input;
  // An account where the ledger moved money gets its balance read alongside its transactions, so
  // both of Stripe's endpoints stay busy; one where only Stripe moved it, after.
  const moved = account !== "platform" && (input.matchedUntil === null || (await hasMoved(db, account, input.matchedUntil)));
  const balance = moved ? gateway.retrieveBalance(account) : undefined;
  balance?.catch(() => {}); // awaited below; an early failure must not go unhandled meanwhile
  const ingest = await ingestAccount(db, gateway, { account, cursorCreated: input.cursorCreated, pageSize: input.pageSize });
  if (account !== "platform") await linkPayoutsMadeByHand(db, account);
  const since = input.matchedUntil ? new Date(input.matchedUntil.getTime() - MATCH_OVERLAP_MS) : new Date(0);
  const matched = await matchAccount(db, { account, since, graceSeconds });
  await describeForeignPayouts(db, gateway, account);
  let drift = { opened: 0, closed: 0 };
  if (account !== "platform" && (moved || ingest.ingested > 0)) drift = await checkBalanceDrift(db, gateway, { account, graceSeconds, balance });
  const settled = await backfillSettlements(db, gateway, account);
  return {
    ingested: ingest.ingested,
    opened: matched.opened + drift.opened,
    closed: matched.closed + drift.closed,
    settled,
    cursorCreated: ingest.cursorCreated,
    startedAt,
  };
}

/** Whether the ledger moved money on this account since `since`, or its balance drift is still open. */
async function hasMoved(db: Db, account: string, since: Date): Promise<boolean> {
  const [row] = await queryRows(
    db,
    sql`select 1 where exists (select 1 from ledger_stripe_refs where stripe_account = ${account} and created_at >= ${since.toISOString()}::timestamptz)
           or exists (select 1 from reconciliation_breaks where account = ${account} and kind = 'balance_drift' and status = 'open')`,
  );
  return row !== undefined;
}

export type PassStep = { claimed: number; processed: number; failed: number; finished: boolean };

/**
 * Reconcile one batch of the running pass's accounts (starting a pass if `mayStart` and none runs),
 * and finish the pass when none is left: it is marked completed once, and the one that completes
 * it reports the metrics and their alerts.
 */
export async function reconcileBatch(
  db: Db,
  gateway: ReconcileGateway,
  env: ReconcileEnv,
  input: { owner: string; batchSize: number; now: Date; mayStart: boolean; leaseSeconds?: number; pageSize?: number; concurrency?: number },
): Promise<PassStep> {
  const pass = (await runningPass(db)) ?? (input.mayStart ? await startPass(db) : null);
  if (!pass) return { claimed: 0, processed: 0, failed: 0, finished: false };
  const leaseSeconds = input.leaseSeconds ?? Math.ceil((env.PAYOUT_FUNCTION_MAX_DURATION_SECONDS * 1000) / 3 / 1000) + 60;
  const accounts = await claimAccounts(db, { passId: pass.id, owner: input.owner, leaseSeconds, limit: input.batchSize, now: input.now });
  let processed = 0;
  let failed = 0;
  const queue = [...accounts];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      if (await reconcileOne(db, gateway, env, { passId: pass.id, owner: input.owner, pageSize: input.pageSize }, next)) processed++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(input.concurrency ?? ACCOUNT_CONCURRENCY, queue.length) }, worker));
  const finished = accounts.length < input.batchSize && (await finishPass(db, env, pass.id));
  return { claimed: accounts.length, processed, failed, finished };
}

async function reconcileOne(
  db: Db,
  gateway: ReconcileGateway,
  env: ReconcileEnv,
  { passId, owner, pageSize }: { passId: string; owner: string; pageSize?: number },
  row: AccountRow,
): Promise<boolean> {
  try {
    const outcome = await reconcileAccount(db, gateway, {
      account: row.account,
      cursorCreated: row.cursor_created === null ? null : Number(row.cursor_created),
      matchedUntil: row.matched_until === null ? null : new Date(row.matched_until),
      graceSeconds: env.RECON_GRACE_SECONDS,
      pageSize,
    });
    await db.transaction(async (tx) => {
      await tx.execute(sql`
        update reconciliation_accounts
           set pass_id = ${passId}, cursor_created = ${outcome.cursorCreated}, matched_until = ${outcome.startedAt.toISOString()}::timestamptz,
               last_reconciled_at = now(), last_error = null, lease_owner = null, lease_expires_at = null, updated_at = now()
         where account = ${row.account} and lease_owner = ${owner}`);
      await tx.execute(sql`
        update reconciliation_runs
           set accounts_done = accounts_done + 1, transactions_ingested = transactions_ingested + ${outcome.ingested},
               breaks_opened = breaks_opened + ${outcome.opened}, breaks_closed = breaks_closed + ${outcome.closed}
         where id = ${passId}`);
    });
    return true;
  } catch (err) {
    // The account is left for the next pass (its cursor has not moved, so nothing is lost); this
    // pass goes on without it rather than retrying it forever.
    const message = err instanceof Error ? err.message : String(err);
    log.warn("reconciliation of an account failed", { account: row.account, error: message });
    await db.execute(sql`
      update reconciliation_accounts
         set pass_id = ${passId}, last_error = ${message.slice(0, 500)}, lease_owner = null, lease_expires_at = null, updated_at = now()
       where account = ${row.account} and lease_owner = ${owner}`);
    await db.execute(sql`update reconciliation_runs set accounts_done = accounts_done + 1, failures = failures + 1 where id = ${passId}`);
    return false;
  }
}

/** Complete the pass if every account is done; only the caller that completes it reports. */
async function finishPass(db: Db, env: ReconcileEnv, passId: string): Promise<boolean> {
  const done = await db.transaction(async (tx) => {
    const [left] = await queryRows(tx, sql`select 1 from reconciliation_accounts where pass_id is distinct from ${passId} limit 1`);
    if (left) return false;
    const rows = await queryRows(
      tx,
      sql`update reconciliation_runs set status = 'completed', finished_at = now() where id = ${passId} and status = 'running' returning id`,
    );
    if (rows.length === 0) return false;
    await reportReconciliationMetrics(tx, env);
    return true;
  });
  if (done) log.info("reconciliation pass completed", { passId });
  return done;
}

/** Accounts the running pass has still to reconcile (0 when no pass runs). */
export async function accountsLeft(db: Db): Promise<number> {
  const [row] = await queryRows<{ left: number }>(
    db,
    sql`select count(*)::int as left from reconciliation_accounts a, reconciliation_runs r
        where r.status = 'running' and a.pass_id is distinct from r.id`,
  );
  return row?.left ?? 0;
}

/**
 * reconcile: the hourly pass over every Stripe account, in batches of accounts with the sweeps'
 * time budget and continuations. The hourly trigger starts a pass (or resumes the one a crash left);
 * a continuation only finishes the pass it was sent for.
 */
export function reconcileSweep(deps: { env: ReconcileEnv; gateway: () => ReconcileGateway; mayStartPass: boolean }): SweepDefinition {
  const owner = randomUUID();
  let mayStart = deps.mayStartPass;
  return {
    name: "reconcile",
    async step(db, ctx) {
      const step = await reconcileBatch(db, deps.gateway(), deps.env, { owner, batchSize: ctx.batchSize, now: ctx.now, mayStart });
      // One pass per invocation: a batch that completes it must not start the next.
      mayStart = false;
      return { claimed: step.claimed, processed: step.processed, skipped: 0, failed: step.failed };
    },
    remaining: (db) => accountsLeft(db),
  };
}

/** Run a whole pass here and now (tests, the bench, the CLI): start one, batch until it completes. */
export async function reconcileNow(
  db: Db,
  gateway: ReconcileGateway,
  env: ReconcileEnv,
  options: { batchSize?: number; pageSize?: number; concurrency?: number; now?: Date; onBatch?: (step: PassStep) => void } = {},
): Promise<{ passId: string }> {
  const owner = randomUUID();
  const pass = await startPass(db);
  for (;;) {
    const step = await reconcileBatch(db, gateway, env, {
      owner,
      batchSize: options.batchSize ?? 100,
      now: options.now ?? new Date(),
      mayStart: false,
      pageSize: options.pageSize,
      concurrency: options.concurrency,
    });
    options.onBatch?.(step);
    if (step.claimed === 0) break;
  }
  // An account another invocation holds (a lease not yet ended) keeps the pass running.
  return { passId: pass.id };
}
