import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { Actor } from "../actor";
import { toCents } from "../money";
import { payoutKeySql } from "./keys";

export type ClaimedPayout = {
  id: string;
  runId: string;
  payeeId: string;
  stripeAccountId: string | null;
  amountCents: number;
  transferAmountCents: number;
  currency: string;
  transferIdempotencyKey: string | null;
  payoutIdempotencyKey: string;
  stripeTransferId: string | null;
  stripePayoutId: string | null;
  firstAttemptAt: Date;
  attempts: number;
  /** The payout's generation (ops retries); part of every key of its steps. */
  retries: number;
};

type Row = Record<string, unknown>;

const toClaimed = (r: Row): ClaimedPayout => ({
  id: String(r.id),
  runId: String(r.run_id),
  payeeId: String(r.payee_id),
  stripeAccountId: (r.stripe_account_id as string | null) ?? null,
  amountCents: toCents(r.amount_cents),
  transferAmountCents: toCents(r.transfer_amount_cents),
  currency: String(r.currency),
  transferIdempotencyKey: (r.transfer_idempotency_key as string | null) ?? null,
  payoutIdempotencyKey: String(r.payout_idempotency_key),
  stripeTransferId: (r.stripe_transfer_id as string | null) ?? null,
  stripePayoutId: (r.stripe_payout_id as string | null) ?? null,
  firstAttemptAt: new Date(r.first_attempt_at as string),
  attempts: Number(r.attempts),
  retries: Number(r.retries),
});

/**
 * Claim up to `limit` planned payouts of a run (or processing ones whose lease ran out) with SKIP
 * LOCKED, in one statement that also stores the idempotency keys and the first attempt time (before
 * any Stripe call) and writes the audit rows. A payout this owner released earlier (a retryable
 * error) is not claimed again by it: each slice makes at most one attempt per payout, so `attempts`
 * counts real tries and a burst of errors cannot use up the limit within one slice.
 */
export async function claimPayouts(
  db: Db,
  input: { runId: string; owner: string; limit: number; actor: Actor; leaseSeconds: number },
): Promise<ClaimedPayout[]> {
  const lease = input.leaseSeconds;
  const keyOf = { id: sql`p.id`, retries: sql`p.retries` };
  const rows = await queryRows<Row>(
    db,
    sql`
    with picked as (
      select id, status from payouts
      where run_id = ${input.runId}
        and (status = 'planned'
             or (status = 'processing' and lease_expires_at < now() and lease_owner is distinct from ${input.owner}))
      -- Fewest attempts first: payouts never tried (no lookup needed) go before ones Stripe keeps
      -- refusing, and an outage's errors spread over the run instead of using up one payout's attempts.
      order by attempts, id
      limit ${input.limit}
      for update skip locked
    ),
    claimed as (
      update payouts p set
        status = 'processing',
        lease_owner = ${input.owner},
        lease_expires_at = now() + make_interval(secs => ${lease}),
        transfer_idempotency_key = case when p.transfer_amount_cents > 0
          then coalesce(p.transfer_idempotency_key, ${payoutKeySql(keyOf, "transfer")}) end,
        payout_idempotency_key = coalesce(p.payout_idempotency_key, ${payoutKeySql(keyOf, "payout")}),
        first_attempt_at = coalesce(p.first_attempt_at, now()),
        attempts = p.attempts + 1,
        updated_at = now()
      from picked where p.id = picked.id
      returning p.*, picked.status as previous_status
    ),
    audited as (
      insert into audit_log (actor_type, actor_id, actor_role, action, entity_type, entity_id, before, after)
      select ${input.actor.type}, ${input.actor.id}, ${input.actor.role ?? null},
             case when c.previous_status = 'planned' then 'payout.claimed' else 'payout.reclaimed' end,
             'payout', c.id::text, jsonb_build_object('status', c.previous_status),
             jsonb_build_object('status', 'processing', 'leaseOwner', c.lease_owner, 'attempts', c.attempts)
      from claimed c
    )
    select * from claimed order by id`,
  );
  return rows.map(toClaimed);
}

/** Give a payout back for a later attempt (retryable error outlasted this invocation's retries). */
export async function releasePayout(db: Db, payoutId: string, owner: string, delaySeconds = 0): Promise<void> {
  await db.execute(sql`
    update payouts set lease_expires_at = now() + make_interval(secs => ${delaySeconds}), updated_at = now()
    where id = ${payoutId} and status = 'processing' and lease_owner = ${owner}`);
}

/** How much of a run is still to do, and when the earliest lease runs out. */
export async function remainingWork(db: Db, runId: string) {
  const [r] = await queryRows<{ planned: string; processing: string; reclaimable: string; next_lease: string | null }>(
    db,
    sql`select count(*) filter (where status = 'planned') as planned,
               count(*) filter (where status = 'processing') as processing,
               count(*) filter (where status = 'processing' and lease_expires_at < now()) as reclaimable,
               min(lease_expires_at) filter (where status = 'processing' and lease_expires_at >= now()) as next_lease
        from payouts where run_id = ${runId}`,
  );
  return {
    planned: Number(r?.planned ?? 0),
    processing: Number(r?.processing ?? 0),
    reclaimable: Number(r?.reclaimable ?? 0),
    nextLeaseExpiry: r?.next_lease ? new Date(r.next_lease) : null,
  };
}

/**
 * Hand back payouts this invocation claimed but never started (the time budget ran out): planned
 * again, as if never claimed, so the next invocation sends them without a needless Stripe lookup.
 */
export async function releaseUnstarted(db: Db, payoutIds: string[], owner: string, actor: Actor): Promise<void> {
  if (payoutIds.length === 0) return;
  await db.execute(sql`
    with released as (
      update payouts set status = 'planned', lease_owner = null, lease_expires_at = null,
        attempts = attempts - 1, first_attempt_at = case when attempts = 1 then null else first_attempt_at end, updated_at = now()
      where id in (select (jsonb_array_elements_text(${JSON.stringify(payoutIds)}::jsonb))::uuid)
        and status = 'processing' and lease_owner = ${owner}
      returning id
    )
    insert into audit_log (actor_type, actor_id, actor_role, action, entity_type, entity_id, before, after)
    select ${actor.type}, ${actor.id}, ${actor.role ?? null}, 'payout.released', 'payout', id::text,
           '{"status":"processing"}'::jsonb, '{"status":"planned"}'::jsonb
    from released`);
}
