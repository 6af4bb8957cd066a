import { type SQL, sql } from "drizzle-orm";
import type { Env } from "../env";

// The one query that decides, for every payee and currency with money in `available`, what this
// run pays and why not. Planning inserts from it; a dry run reads it. Set-based: one statement
// whatever the number of payees.

/** Outside the US, Stripe pays out manual-schedule funds held 90 days; we pay them a margin before. */
export const MANUAL_PAYOUT_LIMIT_MARGIN_DAYS = 75;

export type PlanParams = {
  runId: string | null;
  cutoffAt: Date;
  payeeIds?: string[] | null;
  env: PlanEnv;
};

export type PlanEnv = Pick<
  Env,
  "PAYOUT_MIN_THRESHOLD_CENTS" | "PAYOUT_ROLLOUT" | "PAYOUT_APPROVAL_THRESHOLD_CENTS"
>;

export type PlanRow = {
  payee_id: string;
  currency: string;
  amount_cents: string | number;
  transfer_amount_cents: string | number;
  connected_account_id: string | null;
  stripe_account_id: string | null;
  skip_reason: string | null;
  /** Paid only once a second person approves it (above PAYOUT_APPROVAL_THRESHOLD_CENTS). */
  needs_approval: boolean;
};

export function planRowsSql(p: PlanParams): SQL {
  const cutoff = p.cutoffAt.toISOString();
  const filter = p.payeeIds?.length ? JSON.stringify(p.payeeIds) : null;
  const payeeFilter = filter
    ? sql`and a.payee_id in (select (jsonb_array_elements_text(${filter}::jsonb))::uuid)`
    : sql``;
  const beta = p.env.PAYOUT_ROLLOUT === "beta";
  const approvalThresholds = JSON.stringify(p.env.PAYOUT_APPROVAL_THRESHOLD_CENTS ?? {});
  // Balances are the ledger's kept ones (one row per account), so this costs the same whatever
  // the history: at the cutoff is now less what became effective after it (a few days of entries).
  return sql`
    with bal as (
      select a.payee_id, a.currency, array_agg(a.id) as account_ids,
             sum(coalesce(k.balance, 0) - coalesce(l.later, 0)) as at_cutoff, sum(coalesce(k.balance, 0)) as now_balance,
             coalesce(sum(k.balance) filter (where a.location = 'connected'), 0) as on_connected
      from ledger_accounts a
      -- a payee account keeps its balance in one row (shard 0)
      left join ledger_balances k on k.account_id = a.id
      -- entries effective after the cutoff, a few days' worth: found from their transactions
      -- (ledger_transactions_effective_idx, a btree, whatever the physical order of the entries;
      -- an entry is effective when its transaction is)
      left join (select e.account_id, sum(e.amount) as later
                 from ledger_transactions t join ledger_entries e on e.transaction_id = t.id
                 where t.effective_at > ${cutoff}::timestamptz group by e.account_id) l on l.account_id = a.id
      where a.owner_type = 'payee' and a.kind = 'available' ${payeeFilter}
      group by a.payee_id, a.currency
    ),
    cand as (
      -- a refund after the cutoff must not make the payout overdraw: pay the smaller of the two
      select b.*, least(b.at_cutoff, b.now_balance) as amount from bal b
      where least(b.at_cutoff, b.now_balance) > 0
        ${p.runId ? sql`and not exists (select 1 from payouts x where x.run_id = ${p.runId}::uuid and x.payee_id = b.payee_id and x.currency = b.currency)` : sql``}
    )
    , decided as (
    select c.payee_id, c.currency, c.amount as amount_cents,
           -- what is on the connected account already is paid from there; the rest needs a transfer first
           c.amount - greatest(0, least(c.amount, c.on_connected)) as transfer_amount_cents,
           ca.id as connected_account_id, ca.stripe_account_id,
           case
             when ca.id is null or not (ca.payouts_enabled and ca.charges_enabled and ca.details_submitted)
               then 'onboarding_incomplete'
             when coalesce(ps.payouts_enabled, true) = false then 'payouts_disabled'
             when ${beta} and coalesce(ps.beta_rollout, false) = false then 'not_in_beta'
             -- the payee's bank account is also another payee's, and ops have not cleared it (lib/accounts/bank-accounts.ts)
             when exists (select 1 from bank_account_matches m where m.status in ('open', 'confirmed')
                          and (m.payee_a = c.payee_id or m.payee_b = c.payee_id)) then 'duplicate_bank_account'
             -- a payout of an earlier run still waits for approval: its money is still in available
             -- (one whose cycle closed by this cutoff is released first: expireUnapprovedPayouts)
             when exists (select 1 from payouts w where w.status = 'awaiting_approval'
                          and w.payee_id = c.payee_id and w.currency = c.currency
                          and w.approval_expires_at > ${cutoff}::timestamptz) then 'approval_pending'
             when c.amount < greatest(${p.env.PAYOUT_MIN_THRESHOLD_CENTS}::bigint, coalesce(ps.minimum_payout_cents, 0))
               and not (ca.country <> 'US' and exists (
                 select 1 from ledger_entries e2
                 where e2.account_id = any(c.account_ids) and e2.amount > 0
                   and e2.effective_at < ${cutoff}::timestamptz - make_interval(days => ${MANUAL_PAYOUT_LIMIT_MARGIN_DAYS})
                   and e2.effective_at > coalesce((
                     select max(p2.created_at) from payouts p2
                     where p2.payee_id = c.payee_id and p2.currency = c.currency
                       and p2.status in ('planned', 'processing', 'in_transit', 'paid')), '-infinity'::timestamptz)))
               then 'below_threshold'
             else null
           end as skip_reason
    from cand c
    left join connected_accounts ca on ca.payee_id = c.payee_id
    left join payout_settings ps on ps.payee_id = c.payee_id
    )
    select d.*,
           d.skip_reason is null and coalesce(d.amount_cents > (${approvalThresholds}::jsonb ->> d.currency)::bigint, false)
             as needs_approval
    from decided d`;
}
