import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../db/client";
import { payees } from "../../../db/schema";
import {
  availableBalance,
  LedgerError,
  payeeBalances,
  postLedgerTransaction,
  postLedgerTransactions,
  unbalancedTransactions,
} from "../../../lib/ledger";
import { createTestDb, type TestDb } from "../../support/db";

let t: TestDb;
let payeeId: string;

beforeAll(async () => {
  t = await createTestDb();
  const [p] = await t.db.insert(payees).values({ displayName: "Ada", email: "ada@example.com" }).returning();
  payeeId = p!.id;
});
afterAll(() => t.close());

const earning = (key: string, amount: number) => ({
  idempotencyKey: key,
  kind: "earning",
  description: "test earning",
  currency: "usd",
  payeeId,
  lines: [
    { kind: "stripe_clearing" as const, amount: -amount },
    { payeeId, kind: "available" as const, amount },
  ],
});

// Drizzle wraps the database's error; the guard's own message is its cause.
const refusal = (q: Promise<unknown>) =>
  q.then(
    () => "accepted",
    (e: Error & { cause?: Error }) => e.cause?.message ?? e.message,
  );

describe("ledger postings", () => {
  it("credits a payee and derives the balance from entries", async () => {
    const result = await postLedgerTransaction(t.db, earning("earn-1", 4500));
    expect(result.created).toBe(true);
    expect(await availableBalance(t.db, payeeId, "usd")).toBe(4500);
  });

  it("posting the same key twice returns the first transaction and writes nothing", async () => {
    const first = await postLedgerTransaction(t.db, earning("earn-2", 100));
    const again = await postLedgerTransaction(t.db, earning("earn-2", 100));
    expect(again).toEqual({ ...first, created: false });
    const [{ n }] = (await queryRows<{ n: string }>(
      t.db,
      sql`select count(*) as n from ledger_entries e join ledger_transactions t on t.id = e.transaction_id where t.idempotency_key = 'earn-2'`,
    )) as [{ n: string }];
    expect(Number(n)).toBe(2);
  });

  it("refuses an unbalanced posting before it reaches the database", async () => {
    await expect(
      postLedgerTransaction(t.db, {
        ...earning("bad-1", 10),
        lines: [
          { kind: "stripe_clearing", amount: -10 },
          { payeeId, kind: "available", amount: 9 },
        ],
      }),
    ).rejects.toMatchObject({ code: "unbalanced" });
  });

  it("refuses a debit that would take available below zero", async () => {
    const before = await availableBalance(t.db, payeeId, "usd");
    const debit = {
      idempotencyKey: "over-1",
      kind: "payout_planned",
      description: "too much",
      currency: "usd",
      payeeId,
      lines: [
        { payeeId, kind: "available" as const, amount: -(before + 1) },
        { payeeId, kind: "in_transit" as const, amount: before + 1 },
      ],
    };
    const refused = await postLedgerTransaction(t.db, debit).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(LedgerError);
    expect(refused).toMatchObject({ code: "insufficient_balance" });
    expect(await availableBalance(t.db, payeeId, "usd")).toBe(before);
  });

  it("lets a refund take available below zero when the posting allows it", async () => {
    const before = await availableBalance(t.db, payeeId, "usd");
    await postLedgerTransaction(t.db, {
      idempotencyKey: "refund-1",
      kind: "refund",
      description: "refund after payout",
      currency: "usd",
      payeeId,
      allowNegative: true,
      lines: [
        { payeeId, kind: "available", amount: -(before + 500) },
        { kind: "stripe_clearing", amount: before + 500 },
      ],
    });
    expect(await availableBalance(t.db, payeeId, "usd")).toBe(-500);
    await postLedgerTransaction(t.db, earning("earn-3", 500));
  });

  it("posts a batch set-based and reads balances at a cutoff", async () => {
    const cutoff = new Date(Date.now() - 60_000);
    const results = await postLedgerTransactions(
      t.db,
      [1, 2, 3].map((i) => ({
        ...earning(`batch-${i}`, 1000),
        effectiveAt: new Date(cutoff.getTime() - i * 1000),
      })),
    );
    expect(results.every((r) => r.created)).toBe(true);
    const atCutoff = await payeeBalances(t.db, payeeId, { at: cutoff });
    expect(atCutoff.usd?.available).toBe(3000);
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });
});

describe("database guards (not just application code)", () => {
  it("refuses an unbalanced insert of two entries (+100 / -99), and a lone entry", async () => {
    // a platform account (it may go below zero, so no other guard stands in for the balance check)
    const [a] = await queryRows<{ id: string }>(
      t.db,
      sql`select id from ledger_accounts where payee_id is null and kind = 'stripe_clearing' and currency = 'usd'`,
    );
    const b = a;
    const [tx] = await queryRows<{ id: string }>(
      t.db,
      sql`insert into ledger_transactions (idempotency_key, kind, description) values ('raw-1', 'x', 'x') returning id`,
    );
    expect(
      await refusal(
        t.db.execute(sql`insert into ledger_entries (transaction_id, account_id, amount, currency)
          values (${tx!.id}, ${a!.id}, 100, 'usd'), (${tx!.id}, ${b!.id}, -99, 'usd')`),
      ),
    ).toMatch(/is unbalanced in usd: entries sum to 1/);
    expect(
      await refusal(
        t.db.execute(
          sql`insert into ledger_entries (transaction_id, account_id, amount, currency) values (${tx!.id}, ${a!.id}, 100, 'usd')`,
        ),
      ),
    ).toMatch(/double entry needs at least two/);
    const [{ n }] = (await queryRows<{ n: string }>(
      t.db,
      sql`select count(*) as n from ledger_entries where transaction_id = ${tx!.id}`,
    )) as [{ n: string }];
    expect(Number(n)).toBe(0);
  });

  it("refuses entries, transactions and payouts that point at rows that do not exist", async () => {
    const [acct] = await queryRows<{ id: string; payee_id: string }>(
      t.db,
      sql`select id, payee_id from ledger_accounts where payee_id is not null and currency = 'usd' limit 1`,
    );
    const [tx] = await queryRows<{ id: string }>(
      t.db,
      sql`insert into ledger_transactions (idempotency_key, kind, description) values ('raw-refs', 'x', 'x') returning id`,
    );
    const missing = "00000000-0000-4000-8000-000000000000";
    expect(
      await refusal(
        t.db.execute(sql`insert into ledger_entries (transaction_id, account_id, amount, currency)
        values (${tx!.id}, ${acct!.id}, 100, 'usd'), (${tx!.id}, ${missing}, -100, 'usd')`),
      ),
    ).toMatch(/does not exist/);
    expect(
      await refusal(
        t.db.execute(sql`insert into ledger_entries (transaction_id, account_id, amount, currency)
        values (${missing}, ${acct!.id}, 100, 'usd'), (${missing}, ${acct!.id}, -100, 'usd')`),
      ),
    ).toMatch(/does not exist/);
    expect(
      await refusal(
        t.db.execute(
          sql`insert into ledger_transactions (idempotency_key, kind, description, payee_id) values ('raw-refs-2', 'x', 'x', ${missing})`,
        ),
      ),
    ).toMatch(/does not exist/);
    expect(
      await refusal(
        t.db.execute(
          sql`insert into payouts (payee_id, amount_cents, currency) values (${missing}, 100, 'usd')`,
        ),
      ),
    ).toMatch(/does not exist/);
    expect(
      await refusal(
        t.db.execute(
          sql`insert into payouts (payee_id, run_id, amount_cents, currency) values (${acct!.payee_id}, ${missing}, 100, 'usd')`,
        ),
      ),
    ).toMatch(/does not exist/);
    // and the rows they point at cannot go away
    expect(await refusal(t.db.execute(sql`delete from payees where id = ${acct!.payee_id}`))).toMatch(
      /never removed/,
    );
    expect(await refusal(t.db.execute(sql`delete from ledger_accounts where id = ${acct!.id}`))).toMatch(
      /append-only/,
    );
    expect(
      await refusal(t.db.execute(sql`update ledger_accounts set currency = 'eur' where id = ${acct!.id}`)),
    ).toMatch(/append-only/);
  });

  it("a payee's first posting opens all five of its accounts in that currency, at every location each can be", async () => {
    const [acct] = await queryRows<{ payee_id: string }>(
      t.db,
      sql`select payee_id from ledger_accounts where payee_id is not null limit 1`,
    );
    const kinds = await queryRows<{ kind: string }>(
      t.db,
      sql`select distinct kind from ledger_accounts where payee_id = ${acct!.payee_id} and currency = 'usd' order by kind`,
    );
    expect(kinds.map((k) => k.kind)).toEqual(["available", "held", "in_transit", "paid", "pending"]);
    const slots = await queryRows<{ slot: string }>(
      t.db,
      sql`select kind || '@' || location as slot from ledger_accounts where payee_id = ${acct!.payee_id} and currency = 'usd' order by 1`,
    );
    expect(slots.map((s) => s.slot)).toEqual([
      "available@connected",
      "available@platform",
      "held@connected",
      "held@platform",
      "in_transit@bank",
      "in_transit@connected",
      "in_transit@platform",
      "paid@bank",
      "pending@platform",
    ]);
  });

  it("refuses UPDATE and DELETE of entries and transactions", async () => {
    await postLedgerTransaction(t.db, earning("append-only-1", 100));
    expect(await refusal(t.db.execute(sql`update ledger_entries set amount = amount + 1`))).toMatch(/ledger_entries is append-only: UPDATE refused/);
    expect(await refusal(t.db.execute(sql`delete from ledger_entries`))).toMatch(/ledger_entries is append-only: DELETE refused/);
    expect(await refusal(t.db.execute(sql`update ledger_transactions set description = 'x'`))).toMatch(
      /ledger_transactions is append-only: UPDATE refused/,
    );
    expect(await refusal(t.db.execute(sql`delete from ledger_transactions`))).toMatch(/ledger_transactions is append-only: DELETE refused/);
  });

  it("the database itself refuses a payee balance below zero (a raw insert, past the application's check)", async () => {
    const [acct] = await queryRows<{ id: string }>(
      t.db,
      sql`select a.id from ledger_accounts a where a.payee_id = ${payeeId} and a.kind = 'in_transit' and a.location = 'platform' and a.currency = 'usd'`,
    );
    const [clearing] = await queryRows<{ id: string }>(
      t.db,
      sql`select id from ledger_accounts where payee_id is null and kind = 'stripe_clearing' and currency = 'usd'`,
    );
    const [tx] = await queryRows<{ id: string }>(
      t.db,
      sql`insert into ledger_transactions (idempotency_key, kind, description) values ('raw-overdraft', 'x', 'x') returning id`,
    );
    expect(
      await refusal(
        t.db.execute(sql`insert into ledger_entries (transaction_id, account_id, amount, currency)
          values (${tx!.id}, ${acct!.id}, -1, 'usd'), (${tx!.id}, ${clearing!.id}, 1, 'usd')`),
      ),
    ).toMatch(/ledger overdraft: payee .* in_transit balance \(platform\) would be -1 usd/);
  });
});
