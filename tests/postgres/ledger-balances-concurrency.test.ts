import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { payees } from "@/db/schema";
import { balanceDrifts, payeeBalances, platformBalances, postLedgerTransaction, unbalancedTransactions } from "@/lib/ledger";
import { createTestDb, type TestDb } from "../support/db";

// Kept balances under real concurrency: many connections post at once to the same payee accounts
// and to the platform accounts every posting shares (spread over shards). No lost update, no
// deadlock, and every kept balance still equals the sum of its entries.

let t: TestDb;
const payeeIds: string[] = [];

beforeAll(async () => {
  t = await createTestDb();
  for (let i = 0; i < 4; i++) {
    const [p] = await t.db.insert(payees).values({ displayName: `C${i}`, email: `c${i}@example.com` }).returning();
    payeeIds.push(p!.id);
  }
});
afterAll(() => t.close());

describe("kept balances under concurrent postings", () => {
  it("400 postings from 16 connections: earnings, fees, holds and debits; every balance equals its entries", async () => {
    const pool = t.connect(16);
    const jobs = Array.from({ length: 400 }, (_, i) => async () => {
      const payeeId = payeeIds[i % payeeIds.length]!;
      const amount = 1000 + (i % 17) * 10;
      if (i % 5 === 4) {
        // a debit racing the credits: refused or not, it must leave the balances exact
        return postLedgerTransaction(pool.db, {
          idempotencyKey: `c-debit-${i}`,
          kind: "payout_planned",
          description: "race",
          currency: "usd",
          payeeId,
          lines: [
            { payeeId, kind: "available", location: "connected", amount: -amount },
            { payeeId, kind: "in_transit", location: "connected", amount },
          ],
        }).catch(() => null);
      }
      return postLedgerTransaction(pool.db, {
        idempotencyKey: `c-earning-${i}`,
        kind: "earning",
        description: "race",
        currency: "usd",
        payeeId,
        lines: [
          { kind: "stripe_clearing", amount: -amount },
          { payeeId, kind: "available", location: "connected", amount: amount - 100 },
          { kind: "fees", amount: 100 },
        ],
      });
    });
    const results = await Promise.all(jobs.map((job) => job()));
    const debitsPosted = results.filter((r, i) => i % 5 === 4 && r !== null).length;
    expect(debitsPosted).toBeGreaterThan(0);
    expect((await balanceDrifts(t.db)).drifts).toEqual([]);
    expect(await unbalancedTransactions(t.db)).toEqual([]);
    // 320 earnings paid 100 of fees each, spread over the fee account's shards
    expect((await platformBalances(t.db, "fees")).usd).toBe(320 * 100);
    for (const payeeId of payeeIds) {
      const b = (await payeeBalances(t.db, payeeId)).usd!;
      expect(b.available).toBeGreaterThanOrEqual(0);
      expect(b.available + b.in_transit).toBeGreaterThan(0);
    }
  });
});
