import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import postgres from "postgres";
import { inject } from "vitest";
import { connectPostgres, type Db, openPglite } from "../../db/client";
import { adminUrl, databaseUrl } from "./pg-urls";

export type TestDb = {
  db: Db;
  kind: "postgres" | "pglite";
  /** postgres:// URL of this suite's database (Postgres only): give it to a server under test. */
  url?: string;
  /** Another pool on the same database, for tests that need more than one connection. */
  connect(max?: number): { db: Db; close(): Promise<void> };
  close(): Promise<void>;
};

/**
 * A fresh, migrated database for one suite: a copy of the run's template. On the `pglite` project it
 * is an in-memory PGlite loaded from a dump; on `postgres`, a database made from the template.
 */
export async function createTestDb(): Promise<TestDb> {
  const mode = process.env.TEST_DB;
  if (mode === "pglite") {
    const dump = readFileSync(inject("pgliteDump"));
    const handle = await openPglite({ loadDataDir: new Blob([dump]) });
    return {
      db: handle.db,
      kind: "pglite",
      connect: () => {
        throw new Error("PGlite has one connection; multi-connection tests belong in tests/postgres/");
      },
      close: () => handle.close(),
    };
  }
  if (mode === "postgres") {
    const name = `payrun_t_${inject("runTag")}_${randomBytes(4).toString("hex")}`;
    const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`create database ${name} template ${inject("postgresTemplate")}`);
    } finally {
      await admin.end();
    }
    const url = databaseUrl(name);
    const pools: { close(): Promise<void> }[] = [];
    const connect = (max = 10) => {
      const handle = connectPostgres(url, { max });
      pools.push(handle);
      return handle;
    };
    const main = connect(10);
    return {
      db: main.db,
      kind: "postgres",
      url,
      connect,
      close: async () => {
        await Promise.all(pools.map((p) => p.close()));
        const dropper = postgres(adminUrl(), { max: 1, onnotice: () => {} });
        await dropper.unsafe(`drop database if exists ${name} with (force)`);
        await dropper.end();
      },
    };
  }
  throw new Error("createTestDb() runs in the pglite or postgres vitest project (TEST_DB unset)");
}
