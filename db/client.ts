import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { SQL } from "drizzle-orm";
import { type PgDatabase, type PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "./schema";

/** A database or a transaction: every lib/ function takes one of these first. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export type DbHandle = {
  db: Db;
  kind: "postgres" | "pglite";
  close(): Promise<void>;
};

export const MIGRATIONS_FOLDER = path.join(process.cwd(), "db", "migrations");

/** Both drivers, one setting: camelCase in TypeScript, snake_case in Postgres. */
const drizzleOptions = { schema, casing: "snake_case" as const };

export function connectPostgres(url: string, options: { max?: number } = {}): DbHandle {
  // prepare: false so Supabase's transaction pooler (pgbouncer) works.
  const client = postgres(url, { prepare: false, max: options.max ?? 10, onnotice: () => {} });
  const db = drizzlePostgres(client, drizzleOptions) as unknown as Db;
  return { db, kind: "postgres", close: () => client.end({ timeout: 5 }) };
}

/**
 * File-backed (or in-memory, or loaded from a dump) PGlite. PGlite has one connection and nothing stops
 * two processes from opening one data dir, so a file-backed open takes a pid lock beside it.
 */
export async function openPglite(
  options: { dataDir?: string; loadDataDir?: Blob | File } = {},
): Promise<DbHandle & { pglite: PGlite }> {
  let releaseLock = () => {};
  if (options.dataDir) {
    mkdirSync(path.dirname(path.resolve(/*turbopackIgnore: true*/ options.dataDir)), { recursive: true });
    releaseLock = lockDataDir(options.dataDir);
  }
  const pglite = new PGlite({ dataDir: options.dataDir, loadDataDir: options.loadDataDir });
  await pglite.waitReady;
  const db = drizzlePglite(pglite, drizzleOptions) as unknown as Db;
  return {
    db,
    pglite,
    kind: "pglite",
    close: async () => {
      await pglite.close();
      releaseLock();
    },
  };
}

function lockDataDir(dataDir: string): () => void {
  const lockPath = `${path.resolve(/*turbopackIgnore: true*/ dataDir)}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      const release = () => rmSync(lockPath, { force: true });
      process.once("exit", release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(readFileSync(lockPath, "utf8"));
      if (holder && holder !== process.pid && isAlive(holder)) {
        throw new Error(
          `PGlite data dir ${dataDir} is in use by process ${holder}; PGlite allows one process. Stop it or set PGLITE_DIR.`,
        );
      }
      rmSync(lockPath, { force: true }); // stale lock from a process that died
    }
  }
  throw new Error(`could not lock ${lockPath}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function migrateDb(handle: DbHandle): Promise<void> {
  if (handle.kind === "pglite") {
    // biome-ignore lint/suspicious/noExplicitAny: the migrator wants the driver-specific type
    await migratePglite(handle.db as any, { migrationsFolder: MIGRATIONS_FOLDER });
  } else {
    // biome-ignore lint/suspicious/noExplicitAny: the migrator wants the driver-specific type
    await migratePostgres(handle.db as any, { migrationsFolder: MIGRATIONS_FOLDER });
  }
}

/** Is this handle a transaction (or a savepoint in one), rather than the database itself? */
export function isTransaction(db: Db): boolean {
  return db instanceof PgTransaction;
}

/** Rows of a raw query, whichever driver ran it (postgres.js returns an array, PGlite `{ rows }`). */
export async function queryRows<T extends Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

type AppDb = { handle: DbHandle; ready: Promise<Db> };
const globalForDb = globalThis as typeof globalThis & { __payrunDb?: AppDb };

/**
 * The app's database: postgres.js when DATABASE_URL is set, else file-backed PGlite in PGLITE_DIR,
 * which migrates itself on first use. One per process (kept on globalThis across dev reloads).
 */
export function getDb(): Promise<Db> {
  if (!globalForDb.__payrunDb) {
    const url = process.env.DATABASE_URL?.trim();
    if (url) {
      const handle = connectPostgres(url);
      globalForDb.__payrunDb = { handle, ready: Promise.resolve(handle.db) };
    } else {
      const dir = process.env.PGLITE_DIR?.trim() || ".data/pglite";
      const holder = { handle: undefined } as unknown as AppDb;
      holder.ready = (async () => {
        const isNew = !existsSync(dir);
        const handle = await openPglite({ dataDir: dir });
        holder.handle = handle;
        await migrateDb(handle);
        if (isNew) console.info(`[payrun] created embedded database in ${dir}`);
        return handle.db;
      })();
      globalForDb.__payrunDb = holder;
    }
  }
  return globalForDb.__payrunDb.ready;
}

export async function closeAppDb(): Promise<void> {
  const current = globalForDb.__payrunDb;
  globalForDb.__payrunDb = undefined;
  if (current) {
    await current.ready.catch(() => undefined);
    await current.handle?.close();
  }
}

export { schema };
