import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../db/client";
import { payees } from "../../../db/schema";
import {
  LedgerError,
  type PostingInput,
  payeeBalances,
  postLedgerTransaction,
  unbalancedTransactions,
} from "../../../lib/ledger";
import { toCents } from "../../../lib/money";
import { createTestDb, type TestDb } from "../../support/db";

// Property tests: random sequences of postings against an in-memory model of what the balances
// must be. Each run uses a fresh payee so runs are independent inside one database.

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(() => t.close());

type Op =
  | { op: "earn"; amount: number; currency: "usd" | "eur" }
  | { op: "plan"; amount: number; currency: "usd" | "eur" }
  | { op: "settle"; amount: number; currency: "usd" | "eur" }
  | { op: "replay"; index: number };

const currencyArb = fc.constantFrom<"usd" | "eur">("usd", "eur");
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant("earn" as const),
    amount: fc.integer({ min: 1, max: 1_000_000 }),
    currency: currencyArb,
  }),
  fc.record({
    op: fc.constant("plan" as const),
    amount: fc.integer({ min: 1, max: 1_000_000 }),
    currency: currencyArb,
  }),
  fc.record({
    op: fc.constant("settle" as const),
    amount: fc.integer({ min: 1, max: 1_000_000 }),
    currency: currencyArb,
  }),
  fc.record({ op: fc.constant("replay" as const), index: fc.nat() }),
);

let runNo = 0;

describe("ledger properties", () => {
  it("random postings stay balanced, balances equal the model, replays change nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        runNo += 1;
        const [payee] = await t.db
          .insert(payees)
          .values({ displayName: `P${runNo}`, email: `p${runNo}@example.com` })
          .returning();
        const payeeId = payee!.id;
        const model: Record<string, { available: number; in_transit: number; paid: number }> = {};
        const bucket = (c: string) => (model[c] ??= { available: 0, in_transit: 0, paid: 0 });
        const posted: PostingInput[] = [];

        for (const [i, step] of ops.entries()) {
          const key = `prop-${runNo}-${i}`;
          if (step.op === "replay") {
            if (posted.length === 0) continue;
            const again = await postLedgerTransaction(t.db, posted[step.index % posted.length]!);
            expect(again.created).toBe(false);
            continue;
          }
          const b = bucket(step.currency);
          const [from, to] =
            step.op === "earn"
              ? (["stripe_clearing", "available"] as const)
              : step.op === "plan"
                ? (["available", "in_transit"] as const)
                : (["in_transit", "paid"] as const);
          const input: PostingInput = {
            idempotencyKey: key,
            kind: step.op,
            description: step.op,
            currency: step.currency,
            payeeId,
            lines: [
              from === "stripe_clearing"
                ? { kind: from, amount: -step.amount }
                : { payeeId, kind: from, amount: -step.amount },
              { payeeId, kind: to, amount: step.amount },
            ],
          };
          const fromBalance = from === "stripe_clearing" ? Number.POSITIVE_INFINITY : b[from];
          if (fromBalance < step.amount) {
            await expect(postLedgerTransaction(t.db, input)).rejects.toBeInstanceOf(LedgerError);
            continue;
          }
          const result = await postLedgerTransaction(t.db, input);
          expect(result.created).toBe(true);
          posted.push(input);
          if (from !== "stripe_clearing") b[from] -= step.amount;
          b[to] += step.amount;
        }

        const balances = await payeeBalances(t.db, payeeId);
        for (const [currency, expected] of Object.entries(model)) {
          expect(balances[currency]?.available ?? 0).toBe(expected.available);
          expect(balances[currency]?.in_transit ?? 0).toBe(expected.in_transit);
          expect(balances[currency]?.paid ?? 0).toBe(expected.paid);
        }
        // Balances are sums of entries: recompute straight from ledger_entries.
        const direct = await queryRows<{ kind: string; currency: string; total: string }>(
          t.db,
          sql`select a.kind, e.currency, sum(e.amount) as total from ledger_entries e
              join ledger_accounts a on a.id = e.account_id where a.payee_id = ${payeeId}
              group by a.kind, e.currency`,
        );
        for (const row of direct) {
          expect(toCents(row.total)).toBe(balances[row.currency]?.[row.kind as "available"] ?? 0);
        }
      }),
      { numRuns: 30 },
    );
    expect(await unbalancedTransactions(t.db)).toEqual([]);
    const [total] = await queryRows<{ s: string | null }>(
      t.db,
      sql`select sum(amount) as s from ledger_entries`,
    );
    expect(toCents(total?.s ?? 0)).toBe(0);
  });
});
