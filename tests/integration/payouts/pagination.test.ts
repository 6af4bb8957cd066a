import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CursorError } from "../../../db/paging";
import { payees, payoutRuns, payouts } from "../../../db/schema";
import { listPayeePayouts, listRuns } from "../../../lib/payouts/queries";
import { createTestDb, type TestDb } from "../../support/db";

// Rows written in one transaction share created_at; pages must neither skip nor repeat them.
let t: TestDb;
let payeeId: string;
beforeAll(async () => {
  t = await createTestDb();
  const [p] = await t.db.insert(payees).values({ displayName: "Tie", email: "tie@example.com" }).returning();
  payeeId = p!.id;
  const at = new Date("2026-11-15T06:00:00.123456Z");
  const runs = await t.db
    .insert(payoutRuns)
    .values(
      Array.from({ length: 7 }, (_, i) => ({
        cycleKey: `2026-0${(i % 9) + 1}-01`,
        cycleDate: `2026-0${(i % 9) + 1}-01`,
        cutoffAt: at,
        startedAt: at,
        status: "completed" as const,
      })),
    )
    .returning();
  await t.db
    .insert(payouts)
    .values(
      runs.map((r) => ({
        runId: r.id,
        payeeId,
        amountCents: 1000,
        currency: "usd",
        status: "paid" as const,
      })),
    );
  await t.db.execute(sql`select 1`);
});
afterAll(() => t.close());

async function collect<T>(page: (cursor: string | null) => Promise<{ items: T[]; next: string | null }>) {
  const all: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 10; i++) {
    const { items, next } = await page(cursor);
    all.push(...items);
    if (!next) break;
    cursor = next;
  }
  return all;
}

describe("keyset pagination with tied timestamps", () => {
  it("lists every run exactly once across pages", async () => {
    const ids = await collect(async (cursor) => {
      const r = await listRuns(t.db, { limit: 3, cursor });
      return { items: r.runs.map((x) => x.runId), next: r.nextCursor };
    });
    expect(ids).toHaveLength(7);
    expect(new Set(ids).size).toBe(7);
  });

  it("lists every payout of a payee exactly once across pages", async () => {
    const ids = await collect(async (cursor) => {
      const r = await listPayeePayouts(t.db, payeeId, { limit: 2, cursor });
      return { items: r.payouts.map((x) => x.payoutId), next: r.nextCursor };
    });
    expect(ids).toHaveLength(7);
    expect(new Set(ids).size).toBe(7);
  });

  it("refuses a cursor it did not hand out, like every keyset list (db/paging.ts)", async () => {
    await expect(listRuns(t.db, { limit: 3, cursor: "not-a-cursor" })).rejects.toBeInstanceOf(CursorError);
    await expect(
      listPayeePayouts(t.db, payeeId, { limit: 3, cursor: "not-a-cursor" }),
    ).rejects.toBeInstanceOf(CursorError);
  });
});
