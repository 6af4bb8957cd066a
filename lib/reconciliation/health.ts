import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { sweepFailureCounts } from "./alerts";
import { openBreakSummary } from "./breaks";
import { payoutsMissingTransfers } from "./payouts";

/**
 * What the health JSON says of reconciliation: the last pass (and how far the running one got),
 * open breaks per kind, the stripe_payout_missing_transfers figure of the last 24 hours, and every
 * sweep's failures of the last 24 hours.
 */
export async function reconciliationHealth(db: Db) {
  const [lastPass] = await queryRows<{
    id: string;
    status: string;
    started_at: Date;
    finished_at: Date | null;
    accounts_total: number;
    accounts_done: number;
    transactions_ingested: number;
    breaks_opened: number;
    breaks_closed: number;
    failures: number;
  }>(
    db,
    sql`select id, status, started_at, finished_at, accounts_total, accounts_done, transactions_ingested,
               breaks_opened, breaks_closed, failures
        from reconciliation_runs order by started_at desc limit 1`,
  );
  const [lastCompleted] = await queryRows<{ finished_at: Date }>(
    db,
    sql`select finished_at from reconciliation_runs where status = 'completed' order by finished_at desc limit 1`,
  );
  const missing = await payoutsMissingTransfers(db);
  return {
    reconciliation: {
      lastPass: lastPass
        ? {
            id: lastPass.id,
            status: lastPass.status,
            startedAt: lastPass.started_at,
            finishedAt: lastPass.finished_at,
            accountsTotal: lastPass.accounts_total,
            accountsDone: lastPass.accounts_done,
            transactionsIngested: lastPass.transactions_ingested,
            breaksOpened: lastPass.breaks_opened,
            breaksClosed: lastPass.breaks_closed,
            failures: lastPass.failures,
          }
        : null,
      lastCompletedAt: lastCompleted?.finished_at ?? null,
      openBreaks: (await openBreakSummary(db)).map((b) => ({ ...b, difference: Number(b.difference) })),
    },
    stripePayoutMissingTransfers: missing.last24h,
    sweepFailuresLast24h: await sweepFailureCounts(db),
  };
}
