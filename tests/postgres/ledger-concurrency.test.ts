import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { payees } from "../../db/schema";
import { availableBalance, LedgerError, postLedgerTransaction, unbalancedTransactions } from "../../lib/ledger";
import { createTestDb, type TestDb } from "../support/db";

// Only a real server can prove this: PGlite has a single connection, so nothing there is concurrent.
let t: TestDb;
let payeeId: string;
const BALANCE = 10_000;

beforeAll(async () => {
  t = await createTestDb();
  const [p] = await t.db.insert(payees).values({ displayName: "Race", email: "race@example.com" }).returning();
  payeeId = p!.id;
  await postLedgerTransaction(t.db, {
    idempotencyKey: "seed",
    kind: "earning",
    description: "seed",
    currency: "usd",
    payeeId,
    lines: [
      { kind: "stripe_clearing", amount: -BALANCE },
      { payeeId, kind: "available", amount: BALANCE },
    ],
  });
});
afterAll(() => t.close());

describe("concurrent debits on real Postgres", () => {
  it("50 concurrent debits never overdraw; the successful ones sum to at most the balance", async () => {
    // 50 separate connections, so the debits really race.
    const pool = t.connect(50);
    const amounts = Array.from({ length: 50 }, (_, i) => 300 + ((i * 37) % 400));
    const outcomes = await Promise.allSettled(
      amounts.map((amount, i) =>
        postLedgerTransaction(pool.db, {
          idempotencyKey: `debit-${i}`,
          kind: "payout_planned",
          description: "race",
          currency: "usd",
          payeeId,
          lines: [
            { payeeId, kind: "available", amount: -amount },
            { payeeId, kind: "in_transit", amount },
          ],
        }),
      ),
    );
    const succeeded = amounts.filter((_, i) => outcomes[i]!.status === "fulfilled");
    const refused = outcomes.filter((o) => o.status === "rejected");
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(LedgerError);
    const total = succeeded.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(BALANCE);
    expect(refused.length).toBeGreaterThan(0);
    expect(await availableBalance(t.db, payeeId, "usd")).toBe(BALANCE - total);
    expect(await availableBalance(t.db, payeeId, "usd")).toBeGreaterThanOrEqual(0);
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });

  it("the same idempotency key posted concurrently writes once", async () => {
    const pool = t.connect(10);
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        postLedgerTransaction(pool.db, {
          idempotencyKey: "same-key",
          kind: "adjustment",
          description: "dup",
          currency: "usd",
          payeeId,
          lines: [
            { kind: "adjustments", amount: -1 },
            { payeeId, kind: "available", amount: 1 },
          ],
        }),
      ),
    );
    expect(new Set(results.map((r) => r.transactionId)).size).toBe(1);
    expect(results.filter((r) => r.created).length).toBe(1);
  });
});
