import type Stripe from "stripe";
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { StripeGateway } from "../stripe/gateway";
import type { Actor } from "../actor";
import { recordAudits } from "../audit";
import { enqueueOutbox } from "../outbox";

/** What account.updated tells Payrun about a connected account, at the event's time. */
export type ConnectedAccountState = {
  stripeAccountId: string;
  chargesEnabled: boolean;
  payoutsEnabled: boolean;
  detailsSubmitted: boolean;
  requirementsCurrentlyDue: string[];
  disabledReason: string | null;
  payoutScheduleInterval: string;
  /** Stripe's business_type (a tax identity field of the annual statement); null until onboarding sets it. */
  businessType: string | null;
  /** Stripe's event.created: state older than what is stored is dropped. */
  stateAt: Date;
};

export type AccountStateResult =
  | { outcome: "unknown_account" }
  | { outcome: "stale"; storedStateAt: Date | null }
  | { outcome: "updated"; connectedAccountId: string; payeeId: string; scheduleReset: boolean };

export type PayoutScheduleGateway = Pick<StripeGateway, "setManualPayoutSchedule">;

/** Read the fields Payrun stores from an account object as Stripe sends it. */
export function accountStateFromStripe(account: Stripe.Account, stateAt: Date): ConnectedAccountState {
  return {
    stripeAccountId: account.id,
    chargesEnabled: account.charges_enabled === true,
    payoutsEnabled: account.payouts_enabled === true,
    detailsSubmitted: account.details_submitted === true,
    requirementsCurrentlyDue: account.requirements?.currently_due ?? [],
    disabledReason: account.requirements?.disabled_reason ?? null,
    // Absent from the payload: assume it is still what we set (manual) rather than fight a ghost.
    payoutScheduleInterval: account.settings?.payouts?.schedule?.interval ?? "manual",
    businessType: account.business_type ?? null,
    stateAt,
  };
}

/**
 * Store a connected account's state unless newer state is already stored (Stripe does not keep
 * order). A payout schedule other than manual is put back to manual, since the payout run decides
 * when money leaves (the call's idempotency key comes from `idempotencyKey`, e.g. the event id),
 * and ops are alerted in this same transaction. Audited as `actor`.
 */
export async function applyConnectedAccountState(
  db: Db,
  state: ConnectedAccountState,
  options: { actor: Actor; idempotencyKey: string; gateway: () => PayoutScheduleGateway },
): Promise<AccountStateResult> {
  const scheduleReset = state.payoutScheduleInterval !== "manual";
  // Nothing to ask Stripe (nearly always): lock, order check and update in one statement, which
  // answers the row as it was. No row: unknown, or older than what is stored; told apart below.
  let before = scheduleReset ? undefined : await updateUnlessOlder(db, state);
  if (!before) {
    [before] = await queryRows<StoredAccountState>(
      db,
      sql`select id, payee_id, ${storedStateColumns} from connected_accounts
          where stripe_account_id = ${state.stripeAccountId} for update`,
    );
    if (!before) return { outcome: "unknown_account" };
    const storedAt = before.stripe_state_at ? new Date(before.stripe_state_at) : null;
    // Strictly older: dropped. Same second: applied. Stripe's `created` has one-second resolution and
    // event ids carry no order, so two events of the same second cannot be ordered; applying the one
    // that arrives last keeps the row moving (an account usually only gains capabilities within a
    // second) and the next account.updated, a second or more later, corrects any wrong pick.
    if (storedAt && storedAt.getTime() > state.stateAt.getTime())
      return { outcome: "stale", storedStateAt: storedAt };
    // Known trade-off: this Stripe call runs inside the caller's event transaction, holding the row
    // lock. Moving it after the commit needs the webhook handler (lib/webhooks, which owns the
    // transaction) to run a post-commit step; kept here until then. It is rare (only when someone
    // changed the schedule at Stripe), idempotent (key from the event id), and a failure rolls the
    // event back so the replay sweep retries the whole thing.
    if (scheduleReset) {
      await options.gateway().setManualPayoutSchedule(state.stripeAccountId, options.idempotencyKey);
    }
    await db.execute(sql`update connected_accounts set ${stateAssignments(state)} where id = ${before.id}`);
  }
  const after = {
    charges_enabled: state.chargesEnabled,
    payouts_enabled: state.payoutsEnabled,
    details_submitted: state.detailsSubmitted,
    requirements_currently_due: state.requirementsCurrentlyDue,
    disabled_reason: state.disabledReason,
    payout_schedule_interval: "manual",
    business_type: state.businessType,
    stripe_state_at: state.stateAt.toISOString(),
  };
  const payeeId = String(before.payee_id);
  const { id: _id, payee_id: _p, ...beforeState } = before;
  await recordAudits(db, [
    {
      actor: options.actor,
      action: "connected_account.updated",
      entityType: "connected_account",
      entityId: state.stripeAccountId,
      before: beforeState,
      after,
    },
    ...(scheduleReset
      ? [
          {
            actor: options.actor,
            action: "connected_account.payout_schedule_reset",
            entityType: "connected_account",
            entityId: state.stripeAccountId,
            before: { payout_schedule_interval: state.payoutScheduleInterval },
            after: { payout_schedule_interval: "manual" },
            reason:
              "Payrun pays out on its own schedule; an automatic Stripe schedule would move money behind the ledger",
          },
        ]
      : []),
  ]);
  if (scheduleReset) {
    await enqueueOutbox(db, {
      type: "alert.payout_schedule_reset",
      destination: "slack",
      aggregateType: "connected_account",
      aggregateId: before.id,
      dedupeKey: `payout_schedule_reset:${options.idempotencyKey}`,
      payload: {
        text: `Connected account ${state.stripeAccountId} had payout schedule "${state.payoutScheduleInterval}"; set back to manual.`,
        stripeAccountId: state.stripeAccountId,
        payeeId,
        interval: state.payoutScheduleInterval,
      },
    });
  }
  return { outcome: "updated", connectedAccountId: before.id, payeeId, scheduleReset };
}

/** The row as stored, before an update: what the audit row shows as `before`. */
type StoredAccountState = Record<string, unknown> & {
  id: string;
  payee_id: string;
  stripe_state_at: Date | string | null;
};

const storedStateColumns = sql.raw(
  "charges_enabled, payouts_enabled, details_submitted, requirements_currently_due, disabled_reason, payout_schedule_interval, business_type, stripe_state_at",
);

/** Payrun keeps the schedule manual: a non-manual one is reset at Stripe before this is written. */
function stateAssignments(state: ConnectedAccountState) {
  return sql`
    charges_enabled = ${state.chargesEnabled},
    payouts_enabled = ${state.payoutsEnabled},
    details_submitted = ${state.detailsSubmitted},
    requirements_currently_due = ${JSON.stringify(state.requirementsCurrentlyDue)}::jsonb,
    disabled_reason = ${state.disabledReason},
    payout_schedule_interval = 'manual',
    business_type = ${state.businessType},
    stripe_state_at = ${state.stateAt.toISOString()}::timestamptz,
    updated_at = now()`;
}

/**
 * Lock the account, and update it unless the stored state is newer (the order rule above), in one
 * statement: the row as it was, or none (unknown account, or older state). The sub-select's FOR
 * UPDATE waits for a concurrent update of the row and then reads its committed version, so the check
 * and the `before` it returns are those of the latest state.
 */
async function updateUnlessOlder(
  db: Db,
  state: ConnectedAccountState,
): Promise<StoredAccountState | undefined> {
  const [before] = await queryRows<StoredAccountState>(
    db,
    sql`update connected_accounts c set ${stateAssignments(state)}
        from (select id, payee_id, ${storedStateColumns} from connected_accounts
              where stripe_account_id = ${state.stripeAccountId} for update) prev
        where c.id = prev.id and (prev.stripe_state_at is null or prev.stripe_state_at <= ${state.stateAt.toISOString()}::timestamptz)
        returning prev.*`,
  );
  return before;
}
