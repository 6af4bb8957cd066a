import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import type { Env } from "../env";
import { DomainError, notFound } from "../errors";
import { lockPayeeBalances, payeeBalancesByLocation } from "../ledger";
import { toCents } from "../money";
import { postPayoutPlanned } from "./ledger";
import { takeOverRun, workRunInBackground } from "./run";

// Four-eyes approval of large payouts. Planning writes a payout above PAYOUT_APPROVAL_THRESHOLD_CENTS
// (per currency) as `awaiting_approval` and leaves its money in `available`. A platform admin or
// finance user approves it (available -> in transit, now; the payout becomes `planned` and the run's
// executor sends it) or rejects it (the money stays; the next cycle plans it again), each with a
// reason and audited. Nobody decides on their own payout, nor on a payout of a payee whose payout or
// bank settings they changed within APPROVAL_SETTINGS_COOLDOWN_DAYS. Not decided before the cycle
// closes: `expired_unapproved` (expire-approvals.ts).

export const APPROVAL_SETTINGS_COOLDOWN_DAYS = 30;

/** Roles that may approve or reject. */
export const APPROVER_ROLES = ["platform_admin", "finance"] as const;

/**
 * The audit rows that count as changing a payee's payout or bank settings, matched per payee:
 * the payout settings, the payee record, the connected account (Stripe's bank and payout state),
 * and decisions on a shared bank account.
 */
const settingsChangedSql = (payeeId: string) => sql`
  (a.entity_type = 'payout_settings' and a.entity_id = ${payeeId})
  or (a.entity_type = 'payee' and a.entity_id = ${payeeId} and a.action = 'payee.updated')
  or (a.entity_type = 'payee_bank' and a.entity_id = ${payeeId})
  or (a.entity_type = 'connected_account' and a.entity_id in
        (select c.stripe_account_id from connected_accounts c where c.payee_id = ${payeeId}::uuid))`;

type AwaitingRow = {
  id: string;
  run_id: string | null;
  payee_id: string;
  user_id: string | null;
  status: string;
  amount_cents: string | number;
  currency: string;
  retries: number;
  stripe_account_id: string | null;
  expired: boolean;
};

/**
 * Why `actor` may not decide on a payout to `payee`, or null. Read in the deciding transaction, so a
 * settings change committed before the decision counts.
 */
export async function approvalRefusal(
  db: Db,
  actor: Actor,
  payee: { payeeId: string; userId: string | null },
): Promise<string | null> {
  if (actor.type !== "user" || !(APPROVER_ROLES as readonly string[]).includes(actor.role)) {
    return "Only a platform admin or finance user can approve or reject a payout.";
  }
  if (actor.payeeId === payee.payeeId || (payee.userId !== null && payee.userId === actor.id)) {
    return "Nobody may approve or reject their own payout.";
  }
  const [changed] = await queryRows<{ action: string; occurred_at: string }>(
    db,
    sql`select a.action, a.occurred_at::text as occurred_at from audit_log a
        where a.actor_id = ${actor.id} and a.actor_type = 'user'
          and a.occurred_at > now() - make_interval(days => ${APPROVAL_SETTINGS_COOLDOWN_DAYS})
          and (${settingsChangedSql(payee.payeeId)})
        order by a.occurred_at desc limit 1`,
  );
  if (changed) {
    return `You changed this payee's payout or bank settings in the last ${APPROVAL_SETTINGS_COOLDOWN_DAYS} days (${changed.action}); another person must decide on this payout.`;
  }
  return null;
}

async function lockAwaiting(tx: Db, payoutId: string): Promise<AwaitingRow> {
  const [p] = await queryRows<AwaitingRow>(
    tx,
    sql`select p.id, p.run_id, p.payee_id, y.user_id, p.status, p.amount_cents, p.currency, p.retries, p.stripe_account_id,
               coalesce(p.approval_expires_at <= now(), false) as expired
        from payouts p join payees y on y.id = p.payee_id
        where p.id = ${payoutId} for update of p`,
  );
  if (!p) throw notFound("payout");
  if (p.status !== "awaiting_approval") {
    throw new DomainError(
      "conflict",
      `This payout is ${p.status.replaceAll("_", " ")}; only a payout awaiting approval can be approved or rejected.`,
    );
  }
  if (p.expired) {
    throw new DomainError(
      "conflict",
      "This payout's cycle has closed: it is released to the payee's next cycle, where it is planned (and approved) again.",
    );
  }
  return p;
}

export type ApprovalDecision = {
  payoutId: string;
  runId: string | null;
  status: "planned" | "rejected";
  reopenedRun: boolean;
};

/**
 * Approve a payout awaiting approval: in one transaction, check the four-eyes rule, move its amount
 * from available to in transit where the money is now (the connected account first, the rest to be
 * transferred from the platform; the ledger refuses it if the balance no longer covers it), make it
 * `planned`, audit it, and reopen its run if that had finished. The run's executor then sends it: a
 * live slice claims it (a slice that finds new planned work when it would finish goes on), a
 * finished run is taken over through the continue endpoint (nudged here) or the next watchdog tick.
 */
export async function approvePayout(
  db: Db,
  env: Env,
  input: { payoutId: string; actor: Actor; reason: string },
): Promise<ApprovalDecision> {
  const decision = await db.transaction(async (tx) => {
    const p = await lockAwaiting(tx, input.payoutId);
    const refusal = await approvalRefusal(tx, input.actor, { payeeId: p.payee_id, userId: p.user_id });
    if (refusal) throw new DomainError("forbidden", refusal);
    const [held] = await queryRows<{ id: string }>(
      tx,
      sql`select id from bank_account_matches where status in ('open', 'confirmed') and (payee_a = ${p.payee_id} or payee_b = ${p.payee_id}) limit 1`,
    );
    if (held) {
      throw new DomainError(
        "conflict",
        "This payee's payouts are held: their bank account is also another payee's. Clear the match in Shared banks first, or reject this payout.",
      );
    }
    const amount = toCents(p.amount_cents);
    // Read where the money is now, with the balance rows locked until the posting commits.
    await lockPayeeBalances(tx, { kind: "available", payeeIds: [p.payee_id], currency: p.currency });
    const available = (await payeeBalancesByLocation(tx, p.payee_id)).filter(
      (b) => b.kind === "available" && b.currency === p.currency,
    );
    const at = (location: string) => available.find((b) => b.location === location)?.balance ?? 0;
    const fromConnected = Math.max(0, Math.min(amount, at("connected")));
    const transfer = amount - fromConnected;
    if (at("connected") + at("platform") < amount || at("platform") < transfer) {
      throw new DomainError(
        "conflict",
        "The payee's available balance no longer covers this payout (a refund or dispute took money back); reject it, and the next cycle pays what is there.",
      );
    }
    const money = {
      id: p.id,
      retries: p.retries,
      payeeId: p.payee_id,
      currency: p.currency,
      amountCents: amount,
      transferAmountCents: transfer,
      stripeTransferId: null,
      stripeAccountId: p.stripe_account_id,
    };
    const posted = await postPayoutPlanned(tx, money, "payout approved: available -> in transit");
    await tx.execute(sql`
      update payouts set status = 'planned', transfer_amount_cents = ${transfer}, ledger_transaction_id = ${posted.transactionId},
        approval_decided_by = ${input.actor.id}, approval_decided_at = now(), approval_reason = ${input.reason}, updated_at = now()
      where id = ${p.id}`);
    const reopenedRun = p.run_id ? await reopenRun(tx, p.run_id, input.actor, p.id) : false;
    await recordAudit(tx, {
      actor: input.actor,
      action: "payout.approved",
      entityType: "payout",
      entityId: p.id,
      before: { status: "awaiting_approval" },
      after: { status: "planned", amountCents: amount, currency: p.currency, transferAmountCents: transfer },
      reason: input.reason,
    });
    return { payoutId: p.id, runId: p.run_id, status: "planned" as const, reopenedRun };
  });
  if (decision.runId) {
    // A finished run that this approval reopened gets a chain of its own at once (nobody else works
    // on it); a run still executing gets a nudge, which the continue endpoint turns into a take-over
    // only if its chain died. Should the dispatch fail, the watchdog resumes the run.
    const chainId = decision.reopenedRun
      ? ((await takeOverRun(db, env, decision.runId, input.actor, { planned: true })) ?? undefined)
      : undefined;
    await workRunInBackground(db, env, decision.runId, {
      chainId,
      reason: `approved-${decision.payoutId}`,
    }).catch(() => undefined);
  }
  return decision;
}

/** Reject a payout awaiting approval: nothing moves (its money stayed available), audited with the reason. */
export async function rejectPayout(
  db: Db,
  input: { payoutId: string; actor: Actor; reason: string },
): Promise<ApprovalDecision> {
  return db.transaction(async (tx) => {
    const p = await lockAwaiting(tx, input.payoutId);
    const refusal = await approvalRefusal(tx, input.actor, { payeeId: p.payee_id, userId: p.user_id });
    if (refusal) throw new DomainError("forbidden", refusal);
    await tx.execute(sql`
      update payouts set status = 'rejected', skip_reason = 'approval_rejected',
        approval_decided_by = ${input.actor.id}, approval_decided_at = now(), approval_reason = ${input.reason}, updated_at = now()
      where id = ${p.id}`);
    await recordAudit(tx, {
      actor: input.actor,
      action: "payout.rejected",
      entityType: "payout",
      entityId: p.id,
      before: { status: "awaiting_approval" },
      after: { status: "rejected", amountCents: toCents(p.amount_cents), currency: p.currency },
      reason: input.reason,
    });
    return { payoutId: p.id, runId: p.run_id, status: "rejected" as const, reopenedRun: false };
  });
}

/**
 * Put a finished run back to executing for a payout approved after it finished, with a stale
 * heartbeat so the continue endpoint or the watchdog takes it over; a run still executing is left
 * alone (its live chain claims the payout). Under the run row's lock, after the payout's: finishing
 * locks the run and then counts open payouts, so whichever commits second sees the other.
 */
async function reopenRun(tx: Db, runId: string, actor: Actor, payoutId: string): Promise<boolean> {
  const [row] = await queryRows<{ previous: string }>(
    tx,
    sql`with prev as (select id, status from payout_runs where id = ${runId} for update)
        update payout_runs r set status = 'executing', finished_at = null, heartbeat_at = now() - interval '1 day', updated_at = now()
        from prev where r.id = prev.id and prev.status in ('completed', 'completed_with_failures')
        returning prev.status as previous`,
  );
  if (!row) return false;
  await recordAudit(tx, {
    actor,
    action: "payout_run.reopened",
    entityType: "payout_run",
    entityId: runId,
    before: { status: row.previous },
    after: { status: "executing" },
    reason: `payout ${payoutId} approved after the run finished`,
  });
  return true;
}

/** Payouts awaiting approval, oldest cycle first, with whether `actor` may decide on each (and why not). */
export async function listAwaitingApproval(db: Db, input: { actor?: Actor; limit?: number } = {}) {
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`select p.id, p.run_id, r.cycle_key, p.payee_id, y.display_name, y.user_id, p.amount_cents, p.currency,
               p.approval_expires_at, p.created_at
        from payouts p join payees y on y.id = p.payee_id left join payout_runs r on r.id = p.run_id
        where p.status = 'awaiting_approval'
        order by p.approval_expires_at, p.id limit ${Math.min(input.limit ?? 200, 500)}`,
  );
  const out = [];
  for (const r of rows) {
    const refusal = input.actor
      ? await approvalRefusal(db, input.actor, {
          payeeId: String(r.payee_id),
          userId: (r.user_id as string | null) ?? null,
        })
      : null;
    out.push({
      payoutId: String(r.id),
      runId: (r.run_id as string | null) ?? null,
      cycleKey: (r.cycle_key as string | null) ?? null,
      payeeId: String(r.payee_id),
      payeeName: String(r.display_name),
      amountCents: toCents(r.amount_cents),
      currency: String(r.currency),
      closesAt: r.approval_expires_at ? new Date(r.approval_expires_at as string).toISOString() : null,
      refusal,
    });
  }
  return out;
}
