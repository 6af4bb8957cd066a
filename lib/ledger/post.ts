import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { payeeAccountKinds, platformAccountKinds } from "../../db/schema";
import { currencySchema, toCents } from "../money";
import { LedgerError } from "./errors";
import type { PostingInput, PostingResult } from "./types";

const payeeKinds = new Set<string>(payeeAccountKinds);
const PAYEE_KINDS_SQL_ARRAY = `{${payeeAccountKinds.join(",")}}`;
const platformKinds = new Set<string>(platformAccountKinds);

/** Post one balanced transaction. See postLedgerTransactions. */
export async function postLedgerTransaction(db: Db, input: PostingInput): Promise<PostingResult> {
  const [result] = await postLedgerTransactions(db, [input]);
  return result!;
}

/**
 * Post many balanced transactions in a handful of statements, whatever their number: the payout run
 * plans thousands of payees this way. Each input is checked (two or more lines, whole cents, sums to
 * zero); payee accounts are locked (FOR UPDATE, in id order, so concurrent postings cannot deadlock
 * or overdraw) and refused if they would go below zero; inputs whose idempotency key already exists
 * are returned as they were and write nothing. Runs in the caller's transaction if given one.
 */
export async function postLedgerTransactions(db: Db, inputs: PostingInput[]): Promise<PostingResult[]> {
  if (inputs.length === 0) return [];
  const txRows: Record<string, unknown>[] = [];
  const lineRows: Record<string, unknown>[] = [];
  const seenKeys = new Set<string>();

  for (const input of inputs) {
    validatePosting(input);
    if (seenKeys.has(input.idempotencyKey)) {
      throw new LedgerError("invalid_posting", `idempotency key ${input.idempotencyKey} appears twice in one batch`);
    }
    seenKeys.add(input.idempotencyKey);
    const currency = currencySchema.parse(input.currency);
    txRows.push({
      k: input.idempotencyKey,
      kind: input.kind,
      description: input.description,
      payee_id: input.payeeId ?? null,
      source_type: input.sourceType ?? null,
      source_id: input.sourceId ?? null,
      metadata: input.metadata ?? {},
      effective_at: (input.effectiveAt ?? new Date()).toISOString(),
    });
    for (const line of input.lines) {
      lineRows.push({
        k: input.idempotencyKey,
        allow_negative: input.allowNegative ?? false,
        owner_type: line.payeeId ? "payee" : "platform",
        payee_id: line.payeeId ?? null,
        kind: line.kind,
        currency,
        amount: line.amount,
      });
    }
  }

  const txJson = JSON.stringify(txRows);
  const linesJson = JSON.stringify(lineRows);
  const txSet = sql`jsonb_to_recordset(${txJson}::jsonb) as t(k text, kind text, description text,
    payee_id uuid, source_type text, source_id text, metadata jsonb, effective_at timestamptz)`;
  const lineSet = sql`jsonb_to_recordset(${linesJson}::jsonb) as l(k text, allow_negative boolean, owner_type text,
    payee_id uuid, kind text, currency text, amount bigint)`;
  // Account of each line. Payee and platform accounts are matched separately so each side uses its
  // own unique index (IS NOT DISTINCT FROM on payee_id could use neither).
  const lineAccounts = sql`(
    select l.*, a.id as account_id from ${lineSet}
      join ledger_accounts a on a.owner_type = 'payee' and a.payee_id = l.payee_id and a.kind = l.kind and a.currency = l.currency
     where l.owner_type = 'payee'
    union all
    select l.*, a.id as account_id from ${lineSet}
      join ledger_accounts a on a.payee_id is null and a.kind = l.kind and a.currency = l.currency
     where l.owner_type = 'platform') la`;

  // Only postings that take money from a payee account need the lock and the overdraft check; a
  // credit (an earning, a release) is three statements.
  const debitsPayee = inputs.some((i) => i.lines.some((l) => l.payeeId && l.amount < 0));

  return db.transaction(async (tx) => {
    // Accounts exist before anyone can lock them or post to them. A payee gets all its accounts in a
    // currency at once, so later set-based postings (planning moves thousands of available balances
    // to in_transit) never have to create any.
    await tx.execute(sql`
      insert into ledger_accounts (owner_type, payee_id, kind, currency)
      select distinct l.owner_type, l.payee_id, k.kind, l.currency from ${lineSet}
      cross join lateral unnest(case when l.owner_type = 'payee' then ${PAYEE_KINDS_SQL_ARRAY}::text[] else array[l.kind] end) k(kind)
      on conflict do nothing`);

    // Keys already posted (now or by a concurrent caller, who then wins) insert nothing here.
    const created = await queryRows<{ k: string; id: string }>(
      tx,
      sql`
      insert into ledger_transactions (idempotency_key, kind, description, payee_id, source_type, source_id, metadata, effective_at)
      select t.k, t.kind, t.description, t.payee_id, t.source_type, t.source_id, t.metadata, t.effective_at
      from ${txSet}
      on conflict (idempotency_key) do nothing
      returning idempotency_key as k, id`,
    );
    const createdKeys = JSON.stringify(created.map((r) => r.k));

    if (created.length > 0 && debitsPayee) {
      // Lock every payee account the new postings take money from, in id order (no deadlocks).
      await tx.execute(sql`
        select a.id from ledger_accounts a
        where a.id in (select la.account_id from ${lineAccounts}
                       where la.owner_type = 'payee' and la.amount < 0
                         and la.k in (select jsonb_array_elements_text(${createdKeys}::jsonb)))
        order by a.id for update`);

      // Under the locks: would any payee account go below zero? (available may, if the posting allows it)
      const negative = await queryRows<{ payee_id: string; kind: string; currency: string; balance: string; delta: string }>(
        tx,
        sql`
        with fresh as materialized (
          select la.account_id, la.payee_id, la.kind, la.currency, sum(la.amount) as delta,
                 bool_and(la.allow_negative) as allow_negative
          from ${lineAccounts}
          where la.owner_type = 'payee' and la.k in (select jsonb_array_elements_text(${createdKeys}::jsonb))
          group by la.account_id, la.payee_id, la.kind, la.currency
          having sum(la.amount) < 0
        )
        select f.payee_id, f.kind, f.currency, coalesce(b.balance, 0) as balance, f.delta
        from fresh f
        left join lateral (select sum(e.amount) as balance from ledger_entries e where e.account_id = f.account_id) b on true
        where coalesce(b.balance, 0) + f.delta < 0
          and not (f.allow_negative and f.kind = 'available')
        limit 1`,
      );
      if (negative.length > 0) {
        const n = negative[0]!;
        throw new LedgerError(
          "insufficient_balance",
          `payee ${n.payee_id} ${n.kind} balance ${toCents(n.balance)} ${n.currency} cannot cover ${-toCents(n.delta)}`,
          { payeeId: n.payee_id, kind: n.kind, currency: n.currency, balance: toCents(n.balance), debit: -toCents(n.delta) },
        );
      }
    }

    if (created.length > 0) {
      // One statement for every entry: the balance trigger checks the whole batch at once.
      await tx.execute(sql`
        insert into ledger_entries (transaction_id, account_id, amount, currency, effective_at)
        select lt.id, la.account_id, la.amount, la.currency, lt.effective_at
        from ${lineAccounts}
        join ledger_transactions lt on lt.idempotency_key = la.k
        where la.k in (select jsonb_array_elements_text(${createdKeys}::jsonb))`);
    }

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
    } else if (!platformKinds.has(line.kind)) {
      fail(`${line.kind} is not a platform account`);
    }
    sum += line.amount;
  }
  if (!Number.isSafeInteger(sum)) fail("amounts overflow");
  if (sum !== 0) {
    throw new LedgerError("unbalanced", `${input.idempotencyKey}: lines sum to ${sum}, not 0`, { sum });
  }
}
