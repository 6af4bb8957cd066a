import type Stripe from "stripe";
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { Actor } from "../actor";
import { recordAudits } from "../audit";
import { DomainError, notFound } from "../errors";
import { enqueueOutbox } from "../outbox";

// Duplicate bank accounts: Stripe gives every bank account a `fingerprint` of its number. Payrun keeps
// each connected account's bank accounts (from account.updated, account.external_account.* and the
// account Stripe returns at onboarding) and, when two payees' live bank accounts share a fingerprint,
// records a match: both payees' payouts are held (planning skips them as duplicate_bank_account) and
// ops get one alert, in the same transaction, until a platform admin clears or confirms it. A match
// nobody decided on resolves by itself when the two no longer share the account.

export type BankAccountState = {
  id: string;
  fingerprint: string | null;
  last4: string | null;
  bankName: string | null;
  country: string | null;
  currency: string | null;
  deleted: boolean;
};

/** A bank account as Stripe sends it (cards, also external accounts, are not bank accounts: null). */
export function bankAccountFromStripe(
  object: Stripe.ExternalAccount | { id: string; object: string; deleted?: boolean },
): BankAccountState | null {
  if (object.object !== "bank_account") return null;
  const bank = object as Partial<Stripe.BankAccount> & { id: string; deleted?: boolean };
  return {
    id: bank.id,
    fingerprint: bank.fingerprint ?? null,
    last4: bank.last4 ?? null,
    bankName: bank.bank_name ?? null,
    country: bank.country ?? null,
    currency: bank.currency ?? null,
    deleted: bank.deleted === true,
  };
}

/** The bank accounts on an account object, and whether the list is all of them (Stripe pages it). */
export function bankAccountsOfAccount(
  account: Stripe.Account,
): { accounts: BankAccountState[]; complete: boolean } | null {
  const list = account.external_accounts;
  if (!list || !Array.isArray(list.data)) return null;
  return {
    accounts: list.data.map((x) => bankAccountFromStripe(x)).filter((x): x is BankAccountState => x !== null),
    complete: list.has_more === false,
  };
}

export type BankAccountsResult =
  | { outcome: "unknown_account" }
  | { outcome: "updated"; payeeId: string; matchesFound: string[]; matchesResolved: string[] };

/**
 * Store what Stripe says about a connected account's bank accounts as of `stateAt` (a row already
 * holding newer state is left alone), then find or resolve matches for every fingerprint it touches.
 * `complete`: the list is all of the account's bank accounts, so one missing from it is gone. Runs
 * in the caller's transaction (the webhook's, onboarding's), taking a transaction-scoped advisory
 * lock per fingerprint first, in order: two payees saving the same bank at once are serialised, so
 * the second sees the first and exactly one match (and one alert) is made.
 */
export async function applyBankAccounts(
  tx: Db,
  input: {
    stripeAccountId: string;
    accounts: BankAccountState[];
    complete: boolean;
    stateAt: Date;
    actor: Actor;
  },
): Promise<BankAccountsResult> {
  const [owner] = await queryRows<{ id: string; payee_id: string }>(
    tx,
    sql`select id, payee_id from connected_accounts where stripe_account_id = ${input.stripeAccountId}`,
  );
  if (!owner) return { outcome: "unknown_account" };
  const existing = await queryRows<{ stripe_external_account_id: string; fingerprint: string | null }>(
    tx,
    sql`select stripe_external_account_id, fingerprint from external_bank_accounts where stripe_account_id = ${input.stripeAccountId}`,
  );
  const fingerprints = [
    ...new Set(
      [...input.accounts.map((a) => a.fingerprint), ...existing.map((e) => e.fingerprint)].filter(
        (f): f is string => !!f,
      ),
    ),
  ].sort();
  for (const fingerprint of fingerprints) {
    await tx.execute(
      sql`select pg_advisory_xact_lock(hashtextextended(${`bank-fingerprint:${fingerprint}`}, 0))`,
    );
  }
  const at = input.stateAt.toISOString();
  for (const a of input.accounts) {
    await tx.execute(sql`
      insert into external_bank_accounts (stripe_external_account_id, stripe_account_id, connected_account_id, payee_id,
                                          fingerprint, last4, bank_name, country, currency, deleted, stripe_state_at)
      values (${a.id}, ${input.stripeAccountId}, ${owner.id}, ${owner.payee_id}, ${a.fingerprint}, ${a.last4}, ${a.bankName},
              ${a.country}, ${a.currency}, ${a.deleted}, ${at}::timestamptz)
      on conflict (stripe_external_account_id) do update set
        fingerprint = excluded.fingerprint, last4 = excluded.last4, bank_name = excluded.bank_name, country = excluded.country,
        currency = excluded.currency, deleted = excluded.deleted, stripe_state_at = excluded.stripe_state_at, updated_at = now()
      where external_bank_accounts.stripe_state_at is null or external_bank_accounts.stripe_state_at <= excluded.stripe_state_at`);
  }
  if (input.complete) {
    const listed = JSON.stringify(input.accounts.map((a) => a.id));
    await tx.execute(sql`
      update external_bank_accounts set deleted = true, stripe_state_at = ${at}::timestamptz, updated_at = now()
      where stripe_account_id = ${input.stripeAccountId} and not deleted
        and stripe_external_account_id not in (select jsonb_array_elements_text(${listed}::jsonb))
        and (stripe_state_at is null or stripe_state_at <= ${at}::timestamptz)`);
  }
  const result = await refreshMatches(tx, { payeeId: owner.payee_id, fingerprints, actor: input.actor });
  return { outcome: "updated", payeeId: owner.payee_id, ...result };
}

/**
 * For each fingerprint: a match with every other payee holding a live bank account with it (new, or
 * a resolved one shared again: alert), and every open match of this payee on it that is no longer
 * shared resolves (the hold lifts). Confirmed and cleared matches are ops' decisions and stay.
 */
async function refreshMatches(tx: Db, input: { payeeId: string; fingerprints: string[]; actor: Actor }) {
  const matchesFound: string[] = [];
  const matchesResolved: string[] = [];
  for (const fingerprint of input.fingerprints) {
    const found = await queryRows<{ id: string; payee_a: string; payee_b: string; reopened: boolean }>(
      tx,
      sql`
      with mine as (
        select 1 from external_bank_accounts where payee_id = ${input.payeeId} and fingerprint = ${fingerprint} and not deleted limit 1
      ),
      others as (
        select distinct payee_id from external_bank_accounts
        where fingerprint = ${fingerprint} and not deleted and payee_id <> ${input.payeeId} and exists (select 1 from mine)
      ),
      pairs as (
        select least(payee_id, ${input.payeeId}::uuid) as a, greatest(payee_id, ${input.payeeId}::uuid) as b from others
      ),
      inserted as (
        insert into bank_account_matches (fingerprint, payee_a, payee_b)
        select ${fingerprint}, a, b from pairs
        on conflict (fingerprint, payee_a, payee_b) do nothing
        returning id, payee_a, payee_b, false as reopened
      ),
      reopened as (
        update bank_account_matches m set status = 'open', resolved_at = null, updated_at = now()
        from pairs p where m.fingerprint = ${fingerprint} and m.payee_a = p.a and m.payee_b = p.b and m.status = 'resolved'
        returning m.id, m.payee_a, m.payee_b, true as reopened
      )
      select * from inserted union all select * from reopened`,
    );
    for (const m of found) {
      matchesFound.push(m.id);
      await recordAudits(tx, [
        {
          actor: input.actor,
          action: m.reopened ? "bank_account_match.reopened" : "bank_account_match.found",
          entityType: "bank_account_match",
          entityId: m.id,
          after: { status: "open", payeeA: m.payee_a, payeeB: m.payee_b },
          reason: "two payees' connected accounts share a bank account (same Stripe fingerprint)",
        },
      ]);
      await enqueueOutbox(tx, {
        type: "alert.duplicate_bank_account",
        destination: "slack",
        aggregateType: "bank_account_match",
        aggregateId: m.id,
        dedupeKey: `duplicate_bank_account:${m.id}:${m.reopened ? `reopened:${Date.now()}` : "found"}`,
        payload: {
          text: `Payees ${m.payee_a} and ${m.payee_b} are paid into the same bank account. Both payees' payouts are held (duplicate_bank_account) until a platform admin clears or confirms the match in /ops/bank-accounts.`,
          matchId: m.id,
          payeeIds: [m.payee_a, m.payee_b],
        },
      });
    }
    const resolved = await queryRows<{ id: string; payee_a: string; payee_b: string }>(
      tx,
      sql`
      update bank_account_matches m set status = 'resolved', resolved_at = now(), updated_at = now()
      where m.fingerprint = ${fingerprint} and m.status = 'open' and (m.payee_a = ${input.payeeId} or m.payee_b = ${input.payeeId})
        and not (
          exists (select 1 from external_bank_accounts e where e.payee_id = m.payee_a and e.fingerprint = m.fingerprint and not e.deleted)
          and exists (select 1 from external_bank_accounts e where e.payee_id = m.payee_b and e.fingerprint = m.fingerprint and not e.deleted))
      returning m.id, m.payee_a, m.payee_b`,
    );
    for (const m of resolved) {
      matchesResolved.push(m.id);
      await recordAudits(tx, [
        {
          actor: input.actor,
          action: "bank_account_match.resolved",
          entityType: "bank_account_match",
          entityId: m.id,
          before: { status: "open" },
          after: { status: "resolved" },
          reason:
            "the two payees no longer share the bank account at Stripe; their payouts are no longer held",
        },
      ]);
    }
  }
  return { matchesFound, matchesResolved };
}

/**
 * A platform admin's decision on a match, with a reason: `clear` (not a problem; payouts go on) or
 * `confirm` (a real duplicate; both stay held until cleared). Audited on the match and, as a change of
 * each payee's bank settings, on both payees (so the four-eyes rule keeps the decider off approving
 * their large payouts for 30 days).
 */
export async function decideBankAccountMatch(
  db: Db,
  input: { matchId: string; decision: "clear" | "confirm"; actor: Actor; reason: string },
) {
  return db.transaction(async (tx) => {
    const [m] = await queryRows<{ id: string; status: string; payee_a: string; payee_b: string }>(
      tx,
      sql`select id, status, payee_a, payee_b from bank_account_matches where id = ${input.matchId} for update`,
    );
    if (!m) throw notFound("bank account match");
    const allowed = input.decision === "clear" ? ["open", "confirmed"] : ["open"];
    if (!allowed.includes(m.status)) {
      throw new DomainError(
        "conflict",
        `This match is ${m.status}; it can no longer be ${input.decision === "clear" ? "cleared" : "confirmed"}.`,
      );
    }
    const next = input.decision === "clear" ? "cleared" : "confirmed";
    await tx.execute(sql`
      update bank_account_matches set status = ${next}, decided_by = ${input.actor.id}, decided_at = now(),
        decision_reason = ${input.reason}, updated_at = now()
      where id = ${m.id}`);
    const action = `bank_account_match.${next}`;
    await recordAudits(tx, [
      {
        actor: input.actor,
        action,
        entityType: "bank_account_match",
        entityId: m.id,
        before: { status: m.status },
        after: { status: next },
        reason: input.reason,
      },
      ...[m.payee_a, m.payee_b].map((payeeId) => ({
        actor: input.actor,
        action,
        entityType: "payee_bank",
        entityId: payeeId,
        after: { matchId: m.id, status: next },
        reason: input.reason,
      })),
    ]);
    return { matchId: m.id, status: next };
  });
}

/** Matches for the ops page: those holding payouts (open, confirmed) unless `all`, newest first. */
export async function listBankAccountMatches(db: Db, input: { all?: boolean; limit?: number } = {}) {
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`select m.id, m.status, m.created_at, m.decided_by, m.decided_at, m.decision_reason, m.resolved_at,
               m.payee_a, a.display_name as name_a, m.payee_b, b.display_name as name_b,
               (select e.last4 from external_bank_accounts e where e.fingerprint = m.fingerprint and e.payee_id = m.payee_a
                order by e.deleted, e.updated_at desc limit 1) as last4
        from bank_account_matches m join payees a on a.id = m.payee_a join payees b on b.id = m.payee_b
        ${input.all ? sql`` : sql`where m.status in ('open', 'confirmed')`}
        order by m.created_at desc, m.id limit ${Math.min(input.limit ?? 200, 500)}`,
  );
  return rows.map((r) => ({
    matchId: String(r.id),
    status: String(r.status),
    payees: [
      { payeeId: String(r.payee_a), name: String(r.name_a) },
      { payeeId: String(r.payee_b), name: String(r.name_b) },
    ],
    last4: (r.last4 as string | null) ?? null,
    createdAt: new Date(r.created_at as string).toISOString(),
    decidedBy: (r.decided_by as string | null) ?? null,
    decisionReason: (r.decision_reason as string | null) ?? null,
  }));
}
