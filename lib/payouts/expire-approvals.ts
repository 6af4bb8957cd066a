import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { Actor } from "../actor";

/**
 * Release every payout still awaiting approval whose cycle closed by `closedBy` (its
 * `approval_expires_at`, the next cycle's cutoff): `expired_unapproved`, audited one by one, in one
 * statement. Its money never left `available`, so nothing is posted: the next cycle's plan pays it
 * (and asks for approval again if it is still above the threshold). Planning calls this in its own
 * transaction before it reads balances; the watchdog calls it every tick, so a closed cycle's
 * payouts are released even before the next run plans.
 */
export async function expireUnapprovedPayouts(
  db: Db,
  input: { closedBy: Date; actor: Actor },
): Promise<string[]> {
  const rows = await queryRows<{ id: string }>(
    db,
    sql`
    with expired as (
      update payouts set status = 'expired_unapproved', skip_reason = 'approval_expired', updated_at = now()
      where status = 'awaiting_approval' and approval_expires_at <= ${input.closedBy.toISOString()}::timestamptz
      returning id, amount_cents, currency, approval_expires_at
    ),
    audited as (
      insert into audit_log (actor_type, actor_id, actor_role, action, entity_type, entity_id, before, after, reason)
      select ${input.actor.type}, ${input.actor.id}, ${input.actor.role ?? null}, 'payout.approval_expired', 'payout', e.id::text,
             '{"status":"awaiting_approval"}'::jsonb,
             jsonb_build_object('status', 'expired_unapproved', 'amountCents', e.amount_cents, 'currency', e.currency),
             'not approved before its cycle closed; the money stays available for the next cycle'
      from expired e
    )
    select id::text as id from expired`,
  );
  return rows.map((r) => r.id);
}
