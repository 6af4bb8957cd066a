import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { payees } from "@/db/schema";
import { journalCsv } from "@/lib/accounting/journal";
import { defaultChartOfAccounts } from "@/lib/chart-of-accounts";
import { type PostingInput, postLedgerTransactions } from "@/lib/ledger";
import { createTestDb, type TestDb } from "../support/db";

// On Postgres the journal is one statement read through a cursor on a connection of its own, in a
// transaction (lib/accounting/journal.ts). That connection goes back to the pool however the read
// ends: to the end, stopped early by its consumer, or failed; and an export that fits in its first
// batch holds none while its consumer has not asked for more (a download nobody reads).

let t: TestDb;
const chart = defaultChartOfAccounts();
const march = { from: "2026-03-01", to: "2026-03-31", timeZone: "UTC", chart };

/** Settles within `ms` or fails: a pool whose one connection was never released would hang. */
const within = <T>(ms: number, promise: Promise<T>): Promise<T> =>
  Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms)),
  ]);

beforeAll(async () => {
  t = await createTestDb();
  const [payee] = await t.db
    .insert(payees)
    .values({ displayName: "Cursor Cora", email: "cora@example.com" })
    .returning({ id: payees.id });
  const postings: PostingInput[] = Array.from({ length: 40 }, (_, i) => ({
    idempotencyKey: `cursor:${i}`,
    kind: "earning",
    description: `Charge ${i}`,
    currency: "usd",
    payeeId: payee!.id,
    effectiveAt: new Date(Date.UTC(2026, 2, 1 + (i % 28), 12, i)),
    lines: [
      { kind: "stripe_clearing", amount: -(1_000 + i) },
      { payeeId: payee!.id, kind: "available", location: "connected", amount: 900 + i },
      { kind: "fees", amount: 100 },
    ],
  }));
  await postLedgerTransactions(t.db, postings);
});
afterAll(() => t.close());

/** Sessions on this database inside a transaction (a cursor between batches is one), other than the one asking. */
async function openTransactions(): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    t.db,
    sql`select count(*)::int as n from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and xact_start is not null`,
  );
  return row!.n;
}

describe("journal.csv through a cursor", () => {
  it("a consumer that stops early gives the connection back, its transaction ended", async () => {
    const pool = t.connect(1);
    try {
      for (let i = 0; i < 3; i++) {
        let chunks = 0;
        for await (const _ of journalCsv(pool.db, { ...march, pageSize: 5 })) {
          chunks++;
          if (chunks === 2) break;
        }
        expect(chunks).toBe(2);
      }
      // The pool's one connection is free, and no session is left in a transaction.
      const [row] = await within(5_000, queryRows<{ n: number }>(pool.db, sql`select 1 as n`));
      expect(row!.n).toBe(1);
      expect(await openTransactions()).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it("an error while formatting ends the read and gives the connection back", async () => {
    const pool = t.connect(1);
    try {
      const unmapped = {
        source: "test",
        accounts: new Map([...chart.accounts].filter(([key]) => key !== "platform.fees")),
      };
      const read = async () => {
        for await (const _ of journalCsv(pool.db, { ...march, chart: unmapped, pageSize: 5 })) {
          // reading
        }
      };
      await expect(read()).rejects.toThrow("ledger account platform.fees has no GL account");
      const [row] = await within(5_000, queryRows<{ n: number }>(pool.db, sql`select 1 as n`));
      expect(row!.n).toBe(1);
      expect(await openTransactions()).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it("an export that fits in its first batch holds no connection while nobody reads on", async () => {
    const pool = t.connect(1);
    try {
      const reading = journalCsv(pool.db, march);
      const first = await reading.next();
      expect(first.done).toBe(false);
      expect((first.value as string).split("\r\n").length).toBe(1 + 120 + 1);
      // Not read to the end, and yet the pool's one connection is free.
      const [row] = await within(5_000, queryRows<{ n: number }>(pool.db, sql`select 1 as n`));
      expect(row!.n).toBe(1);
      expect((await reading.next()).done).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it("a consumer that stops asking loses the read after idleMs, and the connection goes back", async () => {
    const pool = t.connect(1);
    try {
      const reading = journalCsv(pool.db, { ...march, pageSize: 5, idleMs: 200 });
      expect((await reading.next()).done).toBe(false);
      await new Promise((r) => setTimeout(r, 600));
      const [row] = await within(5_000, queryRows<{ n: number }>(pool.db, sql`select 1 as n`));
      expect(row!.n).toBe(1);
      expect(await openTransactions()).toBe(0);
      await expect(reading.next()).rejects.toThrow("nobody asked for more for 0.2 s");
    } finally {
      await pool.close();
    }
  });

  it("a long read holds one snapshot on one connection, then ends it", async () => {
    const reading = journalCsv(t.db, { ...march, pageSize: 10 });
    let text = "";
    const first = await reading.next();
    text += first.value as string;
    expect(await openTransactions()).toBe(1);
    for (;;) {
      const next = await reading.next();
      if (next.done) break;
      text += next.value;
    }
    expect(text.split("\r\n").length).toBe(1 + 120 + 1);
    expect(await openTransactions()).toBe(0);
  });
});
