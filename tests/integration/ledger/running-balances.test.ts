import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { type FundsLocation, type PayeeAccountKind, payees } from "@/db/schema";
import {
  balanceDrifts,
  LedgerError,
  type PostingLine,
  payeeBalances,
  payeeBalancesByLocation,
  platformBalances,
  postLedgerTransaction,
  unbalancedTransactions,
} from "@/lib/ledger";
import { systemActor } from "@/lib/actor";
import { checkKeptBalances, ledgerInvariantsSweep } from "@/lib/ledger/invariants";
import { toCents } from "@/lib/money";
import { createTestDb, type TestDb } from "../../support/db";

// Balances are kept as the entries go in (ledger_balances, kept by the database). Whatever the
// sequence of postings, each kept balance equals the sum of its entries at every moment, "as of"
// any past moment is exact, and nothing but the ledger's own triggers can write a balance.

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(() => t.close());

type Move = {
  from: PayeeAccountKind | "stripe_clearing";
  fromAt: FundsLocation;
  to: PayeeAccountKind;
  toAt: FundsLocation;
};
const moves: Move[] = [
  { from: "stripe_clearing", fromAt: "platform", to: "available", toAt: "connected" }, // a destination charge
  { from: "stripe_clearing", fromAt: "platform", to: "available", toAt: "platform" }, // a placement share
  { from: "available", fromAt: "connected", to: "held", toAt: "connected" }, // a dispute or reserve
  { from: "held", fromAt: "connected", to: "available", toAt: "connected" }, // its release
  { from: "available", fromAt: "platform", to: "in_transit", toAt: "platform" }, // planned, to transfer
  { from: "available", fromAt: "connected", to: "in_transit", toAt: "connected" }, // planned, on the account
  { from: "in_transit", fromAt: "platform", to: "in_transit", toAt: "connected" }, // transferred
  { from: "in_transit", fromAt: "connected", to: "in_transit", toAt: "bank" }, // sent
  { from: "in_transit", fromAt: "bank", to: "paid", toAt: "bank" }, // paid
  { from: "in_transit", fromAt: "bank", to: "available", toAt: "connected" }, // failed after sending
];
const opArb = fc.record({
  move: fc.integer({ min: 0, max: moves.length - 1 }),
  amount: fc.integer({ min: 1, max: 500_000 }),
  currency: fc.constantFrom("usd", "eur"),
  // effective up to 60 days back, so "as of" moments fall between postings
  daysAgo: fc.integer({ min: 0, max: 60 }),
  refund: fc.boolean(),
});

let runNo = 0;

async function recomputedAsOf(payeeId: string, at: Date) {
  const rows = await queryRows<{ kind: string; currency: string; total: string }>(
    t.db,
    sql`select a.kind, e.currency, sum(e.amount) as total from ledger_entries e join ledger_accounts a on a.id = e.account_id
        where a.payee_id = ${payeeId} and e.effective_at <= ${at.toISOString()}::timestamptz group by a.kind, e.currency`,
  );
  return rows.map((r) => ({ kind: r.kind, currency: r.currency, total: toCents(r.total) }));
}

describe("running balances", () => {
  it("every kept balance equals its entries after every posting, and as-of balances equal a recomputation", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 0, max: 60 }),
        async (ops, asOfDaysAgo) => {
          runNo += 1;
          const [payee] = await t.db
            .insert(payees)
            .values({ displayName: `R${runNo}`, email: `r${runNo}@example.com` })
            .returning();
          const payeeId = payee!.id;
          for (const [i, op] of ops.entries()) {
            const move = moves[op.move]!;
            // A refund of a destination charge may take available on the connected account below zero.
            const refund = op.refund && move.from === "stripe_clearing";
            const lines: PostingLine[] = refund
              ? [
                  { payeeId, kind: "available", location: "connected", amount: -op.amount },
                  { kind: "stripe_clearing", amount: op.amount },
                ]
              : [
                  move.from === "stripe_clearing"
                    ? { kind: "stripe_clearing", amount: -op.amount }
                    : { payeeId, kind: move.from, location: move.fromAt, amount: -op.amount },
                  { payeeId, kind: move.to, location: move.toAt, amount: op.amount },
                ];
            await postLedgerTransaction(t.db, {
              idempotencyKey: `rb-${runNo}-${i}`,
              kind: "test",
              description: "property",
              currency: op.currency,
              payeeId,
              allowNegative: refund,
              effectiveAt: new Date(Date.now() - op.daysAgo * 86_400_000),
              lines,
            }).catch((error) => {
              // an overdraft is refused, and must leave nothing behind
              expect(error).toBeInstanceOf(LedgerError);
            });
            const { drifts } = await balanceDrifts(t.db);
            expect(drifts).toEqual([]);
          }
          const at = new Date(Date.now() - asOfDaysAgo * 86_400_000 + 1);
          const asOf = await payeeBalances(t.db, payeeId, { at });
          for (const r of await recomputedAsOf(payeeId, at)) {
            expect(asOf[r.currency]?.[r.kind as "available"]).toBe(r.total);
          }
          // no payee account but available may be below zero, whatever the sequence
          for (const b of await payeeBalancesByLocation(t.db, payeeId)) {
            if (b.kind !== "available") expect(b.balance).toBeGreaterThanOrEqual(0);
          }
        },
      ),
      { numRuns: 25 },
    );
    expect(await unbalancedTransactions(t.db)).toEqual([]);
    const fees = await platformBalances(t.db, "stripe_clearing");
    const [direct] = await queryRows<{ total: string }>(
      t.db,
      sql`select coalesce(sum(e.amount), 0) as total from ledger_entries e join ledger_accounts a on a.id = e.account_id
          where a.kind = 'stripe_clearing' and a.currency = 'usd'`,
    );
    expect(fees.usd ?? 0).toBe(toCents(direct!.total));
  });

  it("nothing but the ledger writes a balance: update, insert, delete and truncate are refused", async () => {
    const [b] = await queryRows<{ account_id: string }>(
      t.db,
      sql`select account_id from ledger_balances limit 1`,
    );
    const refusal = (p: Promise<unknown>) =>
      p
        .then(() => "accepted")
        .catch((e: Error) => String((e as { cause?: Error }).cause?.message ?? e.message));
    expect(
      await refusal(
        t.db.execute(
          sql`update ledger_balances set balance = balance + 1 where account_id = ${b!.account_id}`,
        ),
      ),
    ).toMatch(/ledger_balances is kept by the ledger's triggers/);
    expect(
      await refusal(
        t.db.execute(
          sql`insert into ledger_balances (account_id, shard, balance) values (${b!.account_id}, 9, 5)`,
        ),
      ),
    ).toMatch(/ledger_balances is kept by the ledger's triggers/);
    expect(
      await refusal(t.db.execute(sql`delete from ledger_balances where account_id = ${b!.account_id}`)),
    ).toMatch(/ledger_balances is kept by the ledger's triggers/);
    expect(await refusal(t.db.execute(sql`truncate ledger_balances`))).toMatch(
      /ledger_balances is kept by the ledger's triggers/,
    );
    expect((await balanceDrifts(t.db)).drifts).toEqual([]);
  });

  it("the hourly check finds a kept balance that no longer matches its entries, and alerts once", async () => {
    // Only by switching the database's guard off can a balance drift; the check must still see it.
    const [b] = await queryRows<{ account_id: string }>(
      t.db,
      sql`select account_id from ledger_balances where shard = 0 limit 1`,
    );
    await t.db.execute(sql`alter table ledger_balances disable trigger ledger_balances_guarded`);
    await t.db.execute(
      sql`update ledger_balances set balance = balance + 7 where account_id = ${b!.account_id} and shard = 0`,
    );
    await t.db.execute(sql`alter table ledger_balances enable trigger ledger_balances_guarded`);
    const full = await checkKeptBalances(t.db);
    expect(full.drifts).toEqual([
      { accountId: b!.account_id, kept: expect.any(Number), fromEntries: expect.any(Number) },
    ]);
    expect(full.drifts[0]!.kept - full.drifts[0]!.fromEntries).toBe(7);
    const step = await ledgerInvariantsSweep.step(t.db, {
      now: new Date(),
      actor: systemActor("test"),
      batchSize: 50,
    });
    expect(step.claimed).toBe(0);
    const alerts = await queryRows<{ type: string }>(
      t.db,
      sql`select type from outbox_events where type = 'alert.ledger_balance_drift'`,
    );
    expect(alerts.length).toBe(1);
  });
});
