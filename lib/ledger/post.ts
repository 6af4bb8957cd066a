import { randomUUID } from "node:crypto";
import { type SQL, sql } from "drizzle-orm";
import { type Db, isTransaction, queryRows } from "../../db/client";
import { type FundsLocation, payeeAccountKinds, payeeAccountSlots, platformAccountKinds } from "../../db/schema";
import { currencySchema } from "../money";
import { LedgerError } from "./errors";
import type { PostingInput, PostingResult, StripeRef } from "./types";

const payeeKinds = new Set<string>(payeeAccountKinds);
const platformKinds = new Set<string>(platformAccountKinds);
const payeeSlots = new Set(payeeAccountSlots.map(([kind, location]) => `${kind}@${location}`));
const SLOT_KINDS_SQL = `{${payeeAccountSlots.map(([kind]) => kind).join(",")}}`;
const SLOT_LOCATIONS_SQL = `{${payeeAccountSlots.map(([, location]) => location).join(",")}}`;

/** Where a payee line's money is when the line does not say: paid money is at the bank, the rest on the platform. */
export const defaultLocation = (kind: string): FundsLocation => (kind === "paid" ? "bank" : "platform");

/** Post one balanced transaction. See postLedgerTransactions. */
export async function postLedgerTransaction(db: Db, input: PostingInput): Promise<PostingResult> {
  const [result] = await postLedgerTransactions(db, [input]);
  return result!;
}

/**
 * Post many balanced transactions in two statements, whatever their number. Each input is checked
 * here (two or more lines, whole cents, sums to zero, real accounts) and again by the database
 * (balance per transaction, no overdraft: 0008_running_balances.sql); inputs whose idempotency key
 * already exists are returned as they were and write nothing. Runs in the caller's transaction if
 * given one (without a savepoint: a refused posting fails the caller's transaction), else in its own.
 */
export async function postLedgerTransactions(db: Db, inputs: PostingInput[]): Promise<PostingResult[]> {
  if (inputs.length === 0) return [];
  const txRows: Record<string, unknown>[] = [];
  const lineRows: Record<string, unknown>[] = [];
  const refRows: Record<string, unknown>[] = [];
  const seenKeys = new Set<string>();

  for (const input of inputs) {
    validatePosting(input);
    if (seenKeys.has(input.idempotencyKey)) {
      throw new LedgerError("invalid_posting", `idempotency key ${input.idempotencyKey} appears twice in one batch`);
    }
    seenKeys.add(input.idempotencyKey);
    const currency = currencySchema.parse(input.currency);
    // The id is ours from the start, so entries join their transaction on it (a repeated key inserts
    // no transaction, and its entries join nothing).
    const id = randomUUID();
    txRows.push({
      id,
      k: input.idempotencyKey,
      kind: input.kind,
      description: input.description,
      payee_id: input.payeeId ?? null,
      source_type: input.sourceType ?? null,
      source_id: input.sourceId ?? null,
      metadata: input.metadata ?? {},
      effective_at: (input.effectiveAt ?? new Date()).toISOString(),
      allow_overdraft: input.allowNegative ?? false,
    });
    for (const ref of input.stripeRefs ?? []) {
      refRows.push({ transaction_id: id, account: ref.account, object: ref.object, amount: ref.amount, currency });
    }
    for (const line of input.lines) {
      lineRows.push({
        transaction_id: id,
        payee_id: line.payeeId ?? null,
        kind: line.kind,
        location: line.payeeId ? (line.location ?? defaultLocation(line.kind)) : "platform",
        currency,
        amount: line.amount,
      });
    }
  }
  const source: LedgerSource = {
    transactions: sql`select t.id, t.k, t.kind, t.description, t.payee_id, t.source_type, t.source_id, t.metadata,
        t.effective_at, t.allow_overdraft
      from jsonb_to_recordset(${JSON.stringify(txRows)}::jsonb) as t(id uuid, k text, kind text, description text, payee_id uuid,
        source_type text, source_id text, metadata jsonb, effective_at timestamptz, allow_overdraft boolean)`,
    lines: sql`select l.transaction_id, l.payee_id, l.kind, l.location, l.currency, l.amount
      from jsonb_to_recordset(${JSON.stringify(lineRows)}::jsonb) as l(transaction_id uuid, payee_id uuid,
        kind text, location text, currency text, amount bigint)`,
    ...(refRows.length > 0
      ? {
          stripeRefs: sql`select r.transaction_id, r.account, r.object, r.amount, r.currency
            from jsonb_to_recordset(${JSON.stringify(refRows)}::jsonb) as r(transaction_id uuid, account text, object text,
              amount bigint, currency text)`,
        }
      : {}),
  };

  return inTransaction(db, async (tx) => {
    const created = await postSource(tx, source);
    const createdIds = new Map(created.map((r) => [r.k, r.id]));
    const earlier = inputs.filter((i) => !createdIds.has(i.idempotencyKey)).map((i) => i.idempotencyKey);
    const earlierRows =
      earlier.length === 0
        ? []
        : await queryRows<{ k: string; id: string }>(
            tx,
            sql`select idempotency_key as k, id from ledger_transactions
                where idempotency_key in (select jsonb_array_elements_text(${JSON.stringify(earlier)}::jsonb))`,
          );
    const earlierIds = new Map(earlierRows.map((r) => [r.k, r.id]));
    return inputs.map((input) => {
      const createdId = createdIds.get(input.idempotencyKey);
      if (createdId) return { transactionId: createdId, idempotencyKey: input.idempotencyKey, created: true };
      const earlierId = earlierIds.get(input.idempotencyKey);
      if (!earlierId) throw new LedgerError("invalid_posting", `posting ${input.idempotencyKey} vanished`);
      return { transactionId: earlierId, idempotencyKey: input.idempotencyKey, created: false };
    });
  });
}

/**
 * Postings too many to send as parameters (the payout run plans ten thousand payees at once),
 * described by two queries over the caller's own rows (e.g. a temporary table):
 * - `transactions`: id (a new uuid), k (idempotency key), kind, description, payee_id,
 *   source_type, source_id, metadata, effective_at, allow_overdraft
 * - `lines`: transaction_id, payee_id (null: a platform account), kind, location, currency, amount
 * A transaction whose key exists already is not written, nor are its lines.
 * The caller is responsible for balance per transaction and for valid kinds and locations; the
 * database refuses anything else, and any overdraft. Runs in the caller's transaction; returns how
 * many transactions were created.
 */
export async function postLedgerSet(tx: Db, source: LedgerSource): Promise<number> {
  const created = await postSource(tx, source);
  return created.length;
}

export type LedgerSource = {
  transactions: SQL;
  lines: SQL;
  /** transaction_id, account, object, amount, currency: what Stripe should show (ledger_stripe_refs). */
  stripeRefs?: SQL;
};

async function inTransaction<T>(db: Db, work: (tx: Db) => Promise<T>): Promise<T> {
  // Inside a transaction already: no savepoint (two round trips) for what nobody recovers from.
  return isTransaction(db) ? work(db) : db.transaction(work);
}

/**
 * The one place ledger rows are written: accounts opened if the owner has none yet (a payee's first
 * posting in a currency opens all its (kind, location) accounts, so set-based postings never have
 * to), then transactions and entries in one statement. The entries' triggers check the balance of
 * each transaction, move the running balances and refuse any overdraft against the moved balance,
 * all in that statement; concurrent debits of one account queue on its balance row, so each is
 * checked against what the one before it left.
 */
async function postSource(tx: Db, source: LedgerSource): Promise<{ k: string; id: string }[]> {
  const lines = sql`(${source.lines}) l`;
  // Only owners that have no accounts yet in the currency (all nine of a payee's are opened at once,
  // so one of them stands for all). Sent now, and the posting right behind it without waiting for
  // its answer: the driver pipelines them (one round trip instead of two), and the server runs them
  // in order in this transaction, so the posting's statement sees the accounts just opened.
  const opening = tx
    .execute(sql`
    insert into ledger_accounts (owner_type, payee_id, kind, location, currency)
    select 'payee', o.payee_id, s.kind, s.location, o.currency
    from (select distinct l.payee_id, l.currency from ${lines} where l.payee_id is not null) o
    cross join unnest(${SLOT_KINDS_SQL}::text[], ${SLOT_LOCATIONS_SQL}::text[]) s(kind, location)
    where not exists (select 1 from ledger_accounts a where a.owner_type = 'payee' and a.payee_id = o.payee_id
                        and a.kind = 'available' and a.location = 'platform' and a.currency = o.currency)
    union all
    select distinct 'platform', null::uuid, l.kind, 'platform', l.currency from ${lines}
    where l.payee_id is null
      and not exists (select 1 from ledger_accounts a where a.payee_id is null and a.kind = l.kind and a.currency = l.currency)
    on conflict do nothing`)
    // .then sends it at once (Drizzle's query is lazy), so it leaves before the posting.
    .then(() => undefined);

  // Keys already posted (now or by a concurrent caller, who then wins) write nothing. Each line's
  // account: payee and platform accounts are matched separately so each side uses its own index.
  const posting = queryRows<{ k: string; id: string }>(
      tx,
      sql`
      with created as (
        insert into ledger_transactions (id, idempotency_key, kind, description, payee_id, source_type, source_id, metadata,
                                         effective_at, allow_overdraft)
        select t.id, t.k, t.kind, t.description, t.payee_id, t.source_type, t.source_id, t.metadata,
               t.effective_at, t.allow_overdraft
        from (${source.transactions}) t
        on conflict (idempotency_key) do nothing
        returning idempotency_key as k, id, effective_at
      ),
      entries as (
        insert into ledger_entries (transaction_id, account_id, amount, currency, effective_at)
        select c.id, a.id, l.amount, l.currency, c.effective_at
        from ${lines} join created c on c.id = l.transaction_id
        join ledger_accounts a on a.owner_type = 'payee' and a.payee_id = l.payee_id and a.kind = l.kind
                              and a.location = l.location and a.currency = l.currency
        where l.payee_id is not null
        union all
        select c.id, a.id, l.amount, l.currency, c.effective_at
        from ${lines} join created c on c.id = l.transaction_id
        join ledger_accounts a on a.payee_id is null and a.kind = l.kind and a.currency = l.currency
        where l.payee_id is null
        returning transaction_id
      )${
        source.stripeRefs
          ? sql`,
      refs as (
        insert into ledger_stripe_refs (transaction_id, stripe_account, stripe_object, amount, currency)
        select r.transaction_id, r.account, r.object, r.amount, r.currency
        from (${source.stripeRefs}) r join created c on c.id = r.transaction_id
        returning transaction_id
      )`
          : sql``
      }
      select k, id from created`,
    );
  try {
    const [, created] = await Promise.all([opening, posting]);
    return created;
  } catch (error) {
    throw overdraftRefusal(error) ?? error;
  }
}

/** The database's overdraft refusal (payrun_ledger_keep_balances) as a LedgerError, or null. */
function overdraftRefusal(error: unknown): LedgerError | null {
  for (let e = error as { message?: string; detail?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.message === "string" && e.message.startsWith("ledger overdraft:") && e.detail) {
      const d = JSON.parse(e.detail) as { payeeId: string; kind: string; location: string; currency: string; balance: number; debit: number };
      return new LedgerError(
        "insufficient_balance",
        `payee ${d.payeeId} ${d.kind} balance (${d.location}) ${d.balance} ${d.currency} cannot cover ${d.debit}`,
        d,
      );
    }
  }
  return null;
}

export function validatePosting(input: PostingInput): void {
  const fail = (message: string): never => {
    throw new LedgerError("invalid_posting", `${input.idempotencyKey || "(no key)"}: ${message}`);
  };
  if (!input.idempotencyKey) fail("idempotency key is required");
  if (input.lines.length < 2) fail("a double-entry transaction needs at least two lines");
  let sum = 0;
  for (const line of input.lines) {
    if (!Number.isSafeInteger(line.amount)) fail(`amount ${line.amount} is not a whole number of cents`);
    if (line.amount === 0) fail("zero-amount lines are not allowed");
    if (line.payeeId) {
      if (!payeeKinds.has(line.kind)) fail(`${line.kind} is not a payee account`);
      const location = line.location ?? defaultLocation(line.kind);
      if (!payeeSlots.has(`${line.kind}@${location}`)) fail(`a payee has no ${line.kind} account at ${location}`);
    } else if (!platformKinds.has(line.kind)) {
      fail(`${line.kind} is not a platform account`);
    }
    sum += line.amount;
  }
  if (!Number.isSafeInteger(sum)) fail("amounts overflow");
  for (const ref of input.stripeRefs ?? []) {
    if (!ref.account || !ref.object) fail("a Stripe reference needs an account and an object");
    if (!Number.isSafeInteger(ref.amount)) fail(`Stripe reference amount ${ref.amount} is not a whole number of cents`);
  }
  if (sum !== 0) {
    throw new LedgerError("unbalanced", `${input.idempotencyKey}: lines sum to ${sum}, not 0`, { sum });
  }
}

/**
 * Say later which Stripe object an existing posting mirrors (an out-of-band payout recorded before
 * its Stripe id was known, once reconciliation finds it). References are only ever added.
 */
export async function addStripeRefs(db: Db, transactionId: string, currency: string, refs: StripeRef[]): Promise<void> {
  if (refs.length === 0) return;
  await db.execute(sql`
    insert into ledger_stripe_refs (transaction_id, stripe_account, stripe_object, amount, currency)
    select ${transactionId}::uuid, r.account, r.object, r.amount, ${currency}
    from jsonb_to_recordset(${JSON.stringify(refs)}::jsonb) as r(account text, object text, amount bigint)`);
}
