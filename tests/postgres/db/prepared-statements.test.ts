import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectPostgres, queryRows } from "../../../db/client";
import { payees } from "../../../db/schema";
import { postLedgerTransaction } from "../../../lib/ledger";
import { createTestDb, type TestDb } from "../../support/db";

// Drizzle asks postgres.js for unnamed statements, which it sends in two round trips each (parse and
// describe, then bind and execute). Where the connection allows, every statement is prepared: one
// round trip, parsed and planned once per connection. Only a real server shows what a session holds.
let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(() => t.close());

const preparedHere = (db: Parameters<typeof queryRows>[0]) =>
  queryRows<{ statement: string }>(db, sql`select statement from pg_prepared_statements`);

describe("prepared statements", () => {
  it("a direct connection prepares Drizzle's statements, in transactions too, and posts to the ledger as before", async () => {
    const handle = connectPostgres(t.url!, { max: 1 });
    try {
      const [payee] = await handle.db.insert(payees).values({ displayName: "Prepared", email: "p@example.com" }).returning();
      // A payee's first posting opens its accounts and posts in one pipelined pair of statements.
      for (let i = 0; i < 3; i++) {
        const posted = await postLedgerTransaction(handle.db, {
          idempotencyKey: `prepared-${i}`,
          kind: "earning",
          description: "prepared",
          currency: "usd",
          payeeId: payee!.id,
          lines: [
            { kind: "stripe_clearing", amount: -100 },
            { payeeId: payee!.id, kind: "available", amount: 100 },
          ],
        });
        expect(posted.created).toBe(true);
      }
      const statements = (await preparedHere(handle.db)).map((r) => r.statement);
      expect(statements.some((s) => s.includes("insert into ledger_transactions"))).toBe(true);
      expect(statements.some((s) => s.includes("insert into ledger_accounts"))).toBe(true);
      expect(statements.some((s) => s.includes(`insert into "payees"`))).toBe(true);
      const [balance] = await queryRows<{ n: string }>(
        handle.db,
        sql`select sum(e.amount)::text as n from ledger_entries e join ledger_accounts a on a.id = e.account_id
            where a.payee_id = ${payee!.id} and a.kind = 'available'`,
      );
      expect(balance!.n).toBe("300");
    } finally {
      await handle.close();
    }
  });

  it("through a transaction pooler (pgbouncer=true) nothing is prepared, and the flag never reaches the server", async () => {
    const url = new URL(t.url!);
    url.searchParams.set("pgbouncer", "true");
    const handle = connectPostgres(url.toString(), { max: 1 });
    try {
      await queryRows(handle.db, sql`select ${1}::int as one`);
      await handle.db.transaction(async (tx) => {
        await queryRows(tx, sql`select ${2}::int as two`);
      });
      expect(await preparedHere(handle.db)).toEqual([]);
    } finally {
      await handle.close();
    }
  });
});
