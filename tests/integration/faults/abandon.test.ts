import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { connectPostgres, type Db, type DbHandle, openPglite, queryRows } from "@/db/client";
import { abandonablePglite, abandonablePostgres, Invocation, runInvocation } from "@/lib/faults/abandon";
import { createTestDb, type TestDb } from "../../support/db";

// The fault suite's abandoned invocations must mean what they say, or its verdicts mean nothing: a
// statement the plan kills before never runs, one it kills after has run, an abandoned transaction
// commits nothing, and nothing the dead invocation tries later reaches the database.

let t: TestDb;
let handle: DbHandle;
let db: Db;

beforeAll(async () => {
  t = await createTestDb();
  if (t.kind === "postgres") handle = connectPostgres(t.url!, { max: 3, wrapClient: abandonablePostgres });
  else
    handle = await openPglite({
      loadDataDir: new Blob([readFileSync(inject("pgliteDump"))]),
      wrapClient: abandonablePglite,
    });
  db = handle.db;
  await db.execute(sql`create table fault_probe (n int primary key)`);
});
afterAll(async () => {
  await handle?.close();
  await t?.close();
});

const probes = async () =>
  (await queryRows<{ n: number }>(db, sql`select n from fault_probe order by n`)).map((r) => Number(r.n));
const insert = (tx: Db, n: number) => tx.execute(sql`insert into fault_probe (n) values (${n})`);
/** Settles with "pending" if the promise has not settled after a while: a dead invocation's call never does. */
const within = <T>(promise: Promise<T>, ms = 300) =>
  Promise.race([
    promise.then(
      () => "settled" as const,
      () => "settled" as const,
    ),
    new Promise<"pending">((r) => setTimeout(() => r("pending"), ms)),
  ]);

describe("abandoned invocations", () => {
  it("outside an invocation every statement runs", async () => {
    await insert(db, 1);
    expect(await probes()).toEqual([1]);
  });

  it("dies before its 2nd statement: the 1st ran, the 2nd and later never do", async () => {
    const invocation = new Invocation("before", { boundary: 2, phase: "before" });
    const work = runInvocation(invocation, async () => {
      await insert(db, 10);
      await insert(db, 11);
      await insert(db, 12);
    });
    await invocation.dead;
    expect(await within(work)).toBe("pending");
    expect(await probes()).toEqual([1, 10]);
    expect(invocation.diedAt).toContain("before");
  });

  it("dies after a statement: it has run, the caller never hears of it", async () => {
    const invocation = new Invocation("after", { boundary: 1, phase: "after" });
    const work = runInvocation(invocation, () => insert(db, 20));
    await invocation.dead;
    expect(await within(work)).toBe("pending");
    expect(await probes()).toContain(20);
  });

  it("a transaction that dies inside, or before its commit, commits nothing", async () => {
    for (const [n, boundary] of [
      [30, 2],
      [40, 3],
    ] as const) {
      // boundary 2: the second insert; boundary 3: the commit (two statements, then the commit)
      const invocation = new Invocation(`tx-${n}`, { boundary, phase: "before" });
      const work = runInvocation(invocation, () =>
        db.transaction(async (tx) => {
          await insert(tx, n);
          await insert(tx, n + 1);
        }),
      );
      await invocation.dead;
      expect(await within(work)).toBe("pending");
      expect((await probes()).filter((p) => p >= n && p <= n + 1)).toEqual([]);
    }
  });

  it("dies after a commit: the transaction is in, the invocation does nothing more", async () => {
    const invocation = new Invocation("after-commit", { boundary: 3, phase: "after" });
    const work = runInvocation(invocation, async () => {
      await db.transaction(async (tx) => {
        await insert(tx, 50);
        await insert(tx, 51);
      });
      await insert(db, 52);
    });
    await invocation.dead;
    expect(await within(work)).toBe("pending");
    expect((await probes()).filter((p) => p >= 50)).toEqual([50, 51]);
  });

  it("an invocation that lives past its plan is untouched", async () => {
    const invocation = new Invocation("lives", { boundary: 100, phase: "before" });
    await runInvocation(invocation, () => insert(db, 60));
    expect(invocation.abandoned).toBe(false);
    expect(invocation.boundaries).toBe(1);
    expect(await probes()).toContain(60);
  });
});
