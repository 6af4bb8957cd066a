import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { accountBalancesSql } from "../ledger/balances";
import { formatMoney, toCents } from "../money";
import { isUuid } from "../schemas/common";

// Can a failed payout still be retried? A retry moves the payout's amount from the payee's available
// balance back to in transit (retryFailedPayout). That works only while the money its failure
// returned is still there: a later run sweeps the available balance, so once a later payout has
// taken it, a retry would either be refused by the ledger (409) or pay newer earnings under an old
// payout. The run page asks here before it offers the button, and says why not instead.

export type RetryBlocker =
  /** Not failed (any more): only failed payouts can be retried. */
  | { kind: "not_failed"; status: string }
  /** A later payout of the same payee and currency, planned after this one failed, took the money. */
  | {
      kind: "paid_later";
      laterPayoutId: string;
      laterRunId: string | null;
      laterCycleKey: string | null;
      laterStatus: string;
    }
  /** The available balance is below the amount now (a refund, a hold or a dispute took some). */
  | { kind: "insufficient_available"; availableCents: number; amountCents: number; currency: string };

/**
 * For each payout id: null when a retry can work now, else why not. One statement whatever the
 * number of ids (a run page lists up to 1,000 failures). Unknown ids are left out of the map.
 */
export async function retryBlockers(db: Db, payoutIds: string[]): Promise<Map<string, RetryBlocker | null>> {
  const ids = [...new Set(payoutIds.filter(isUuid))];
  const out = new Map<string, RetryBlocker | null>();
  if (ids.length === 0) return out;
  const rows = await queryRows<{
    id: string;
    status: string;
    amount_cents: unknown;
    currency: string;
    available: unknown;
    later_id: string | null;
    later_run_id: string | null;
    later_cycle_key: string | null;
    later_status: string | null;
  }>(
    db,
    // The later payout: same payee and currency, made after this one's (last) failure returned the
    // money, and not itself failed or skipped (payouts_payee_created_idx). "After" compares two
    // times on our database's clock: a failed payout's updated_at is when its failure (and the
    // return of its money) was recorded, while failed_at is Stripe's event time. The balance: every
    // `available` account of the payee in that currency, wherever the money is (lib/ledger/balances.ts).
    sql`select p.id, p.status, p.amount_cents, p.currency,
               (select coalesce(sum(b.balance), 0) from (${accountBalancesSql(
                 sql`select id from ledger_accounts where owner_type = 'payee' and payee_id = p.payee_id
                       and kind = 'available' and currency = p.currency`,
               )}) b) as available,
               later.id as later_id, later.run_id as later_run_id, later.cycle_key as later_cycle_key,
               later.status as later_status
          from payouts p
          left join lateral (
            select q.id, q.run_id, r.cycle_key, q.status
              from payouts q left join payout_runs r on r.id = q.run_id
             where q.payee_id = p.payee_id and q.currency = p.currency and q.id <> p.id
               and q.created_at > p.updated_at
               and q.status in ('planned', 'processing', 'in_transit', 'paid')
             order by q.created_at, q.id
             limit 1
          ) later on p.status = 'failed'
         where p.id in (select (jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))::uuid)`,
  );
  for (const r of rows) {
    const amountCents = toCents(r.amount_cents);
    const availableCents = toCents(r.available);
    let blocker: RetryBlocker | null = null;
    if (r.status !== "failed") blocker = { kind: "not_failed", status: r.status };
    else if (r.later_id && r.later_status) {
      blocker = {
        kind: "paid_later",
        laterPayoutId: r.later_id,
        laterRunId: r.later_run_id,
        laterCycleKey: r.later_cycle_key,
        laterStatus: r.later_status,
      };
    } else if (availableCents < amountCents) {
      blocker = { kind: "insufficient_available", availableCents, amountCents, currency: r.currency };
    }
    out.set(r.id, blocker);
  }
  return out;
}

/** Why a retry cannot work, in words for the ops console and an API error. */
export function retryBlockerText(blocker: RetryBlocker): string {
  switch (blocker.kind) {
    case "not_failed":
      return `The payout is ${blocker.status.replaceAll("_", " ")}; only a failed payout can be retried.`;
    case "paid_later": {
      const where = blocker.laterCycleKey ? `the ${blocker.laterCycleKey} run's payout` : "a later payout";
      return `No retry needed: the money this failure returned went into ${where}, which is ${blocker.laterStatus.replaceAll("_", " ")}.`;
    }
    case "insufficient_available":
      return `Cannot retry: only ${formatMoney(blocker.availableCents, blocker.currency)} of ${formatMoney(blocker.amountCents, blocker.currency)} is available now (a refund, hold or dispute took the rest).`;
  }
}
