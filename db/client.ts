import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { connect, type Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { SQL } from "drizzle-orm";
import { type PgDatabase, type PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { type PgliteServer, servePglite } from "./pglite-server";
import * as schema from "./schema";

/** A database or a transaction: every lib/ function takes one of these first. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export type DbHandle = {
  db: Db;
  /** pglite: in this process; pglite-socket: postgres.js to the embedded database's server. */
  kind: "postgres" | "pglite" | "pglite-socket";
  close(): Promise<void>;
};

export const MIGRATIONS_FOLDER = path.join(process.cwd(), "db", "migrations");

/** Both drivers, one setting: camelCase in TypeScript, snake_case in Postgres. */
const drizzleOptions = { schema, casing: "snake_case" as const };

/**
 * Whether statements may be prepared on a connection to `url`: not through a transaction pooler
 * (PgBouncer, or Supavisor in transaction mode: Supabase's port 6543, or `pgbouncer=true` on the
 * URL as Prisma spells it), where the next statement of a session may reach another server
 * connection that never saw the prepared one. `setting` (DATABASE_PREPARED_STATEMENTS) overrides.
 */
export function preparedStatementsAllowed(url: string, setting?: string): boolean {
  if (setting === "true" || setting === "false") return setting === "true";
  const parsed = new URL(url);
  return parsed.port !== "6543" && parsed.searchParams.get("pgbouncer") !== "true";
}

/** `pgbouncer=true` is ours to read: postgres.js would send it to the server as a setting, which refuses it. */
function withoutPoolerFlag(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has("pgbouncer")) return url;
  parsed.searchParams.delete("pgbouncer");
  return parsed.toString();
}

/**
 * Drizzle asks postgres.js for an unnamed statement unless a query is given a name, and postgres.js
 * then sends every statement with parameters in two round trips: Parse and Describe, wait for the
 * parameter types, then Bind and Execute (a prepared one goes in one, and skips parsing and
 * planning the next time). Where the connection allows it (preparedStatementsAllowed), this lets
 * postgres.js prepare every statement, in transactions and savepoints too: half the round trips.
 */
function preparingClient<S extends postgres.Sql | postgres.TransactionSql>(client: S): S {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === "unsafe") {
        return (query: string, params?: unknown[], options?: postgres.UnsafeQueryOptions) =>
          (target as postgres.Sql).unsafe(query, params as never, { ...options, prepare: true });
      }
      if (property === "begin") {
        return (...args: unknown[]) => {
          const body = args.pop() as (tx: postgres.TransactionSql) => unknown;
          return (target as postgres.Sql).begin(...(args as [string]), (tx) => body(preparingClient(tx)));
        };
      }
      if (property === "savepoint") {
        return (...args: unknown[]) => {
          const body = args.pop() as (tx: postgres.TransactionSql) => unknown;
          return (target as postgres.TransactionSql).savepoint(...(args as [string]), (tx) =>
            body(preparingClient(tx)),
          );
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

/**
 * `wrapClient`: the fault suite's hook to see every statement (lib/faults/abandon.ts); nothing else
 * sets it. `prepare`: see preparedStatementsAllowed (its default).
 */
export function connectPostgres(
  url: string,
  options: { max?: number; prepare?: boolean; wrapClient?: (client: postgres.Sql) => postgres.Sql } = {},
): DbHandle {
  const prepare = options.prepare ?? preparedStatementsAllowed(url, process.env.DATABASE_PREPARED_STATEMENTS);
  const client = postgres(withoutPoolerFlag(url), { prepare, max: options.max ?? 10, onnotice: () => {} });
  const base = prepare ? preparingClient(client) : client;
  const wrapped = options.wrapClient?.(base) ?? base;
  const db = drizzlePostgres(wrapped, drizzleOptions) as unknown as Db;
  serverClients.set(db, wrapped);
  return { db, kind: "postgres", close: () => client.end({ timeout: 5 }) };
}

/** The postgres.js pool behind each database handle connectPostgres made (not its transactions). */
const serverClients = new WeakMap<Db, postgres.Sql>();

/**
 * The postgres.js pool of a handle on a Postgres server, for what Drizzle cannot do: a reserved
 * connection streaming a server-side cursor (the accounting journal). Null for a transaction, for
 * PGlite in this process, and for the embedded database over its socket: that one has a single
 * backend session, which a connection holding a transaction open would keep from every other.
 */
export function serverClientOf(db: Db): postgres.Sql | null {
  return serverClients.get(db) ?? null;
}

/**
 * File-backed (or in-memory, or loaded from a dump) PGlite in this process. PGlite has one connection
 * and nothing stops two processes from opening one data dir, so a file-backed open takes a pid lock
 * beside it. The app and the CLIs reach a data dir through connectEmbedded instead, which serves it.
 */
export async function openPglite(
  options: { dataDir?: string; loadDataDir?: Blob | File; wrapClient?: (pglite: PGlite) => PGlite } = {},
): Promise<DbHandle & { pglite: PGlite }> {
  let releaseLock = () => {};
  if (options.dataDir) {
    const lock = tryLockDataDir(options.dataDir);
    if (typeof lock === "number") {
      throw new Error(
        `PGlite data dir ${options.dataDir} is in use by process ${lock}; PGlite allows one process. Stop it or set PGLITE_DIR.`,
      );
    }
    releaseLock = lock;
  }
  try {
    const pglite = new PGlite({ dataDir: options.dataDir, loadDataDir: options.loadDataDir });
    await pglite.waitReady;
    const db = drizzlePglite(options.wrapClient?.(pglite) ?? pglite, drizzleOptions) as unknown as Db;
    return {
      db,
      pglite,
      kind: "pglite",
      close: async () => {
        await pglite.close();
        releaseLock();
      },
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

/** Take the data dir's pid lock: its release function, or the pid of the live process holding it. */
function tryLockDataDir(dataDir: string): (() => void) | number {
  mkdirSync(path.dirname(path.resolve(/*turbopackIgnore: true*/ dataDir)), { recursive: true });
  const lockPath = lockPathOf(dataDir);
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
      const holder = lockHolder(dataDir);
      if (holder) return holder;
      rmSync(lockPath, { force: true }); // stale lock from a process that died
    }
  }
  throw new Error(`could not lock ${lockPath}`);
}

const lockPathOf = (dataDir: string) => `${path.resolve(/*turbopackIgnore: true*/ dataDir)}.lock`;

/** The live process (not this one) holding the data dir's lock, or null. */
function lockHolder(dataDir: string): number | null {
  let holder: number;
  try {
    holder = Number(readFileSync(lockPathOf(dataDir), "utf8"));
  } catch {
    return null;
  }
  return holder && holder !== process.pid && isAlive(holder) ? holder : null;
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

/**
 * The Unix socket the embedded database at `dataDir` is served on: in a directory only this user can
 * enter, beside the data dir (psql: host=<that directory>), or under the temp dir when that path is
 * too long for a socket. Every process computes the same path from the data dir.
 */
export function embeddedSocketPath(dataDir: string): string {
  const absolute = path.resolve(/*turbopackIgnore: true*/ dataDir);
  const beside = path.join(`${absolute}.socket`, ".s.PGSQL.5432");
  if (Buffer.byteLength(beside) <= 100) return beside;
  const digest = createHash("sha256").update(absolute).digest("hex").slice(0, 16);
  return path.join(os.tmpdir(), `payrun-pglite-${digest}`, ".s.PGSQL.5432");
}

type EmbeddedHost = { dataDir: string; server: PgliteServer; pglite: PGlite; release(): void };
const globalForHost = globalThis as typeof globalThis & {
  __payrunEmbeddedHost?: Promise<EmbeddedHost | null>;
};

/**
 * Serve the embedded database from this process: lock the data dir, open PGlite, migrate it, listen
 * on its socket. Null when another live process holds the lock (it serves, or is about to).
 */
async function hostEmbedded(dataDir: string): Promise<EmbeddedHost | null> {
  const isNew = !existsSync(dataDir);
  const lock = tryLockDataDir(dataDir);
  if (typeof lock === "number") return null;
  try {
    const handle = await openUnlockedPglite(dataDir);
    await migrateDb(handle);
    if (isNew) console.info(`[payrun] created embedded database in ${dataDir}`);
    const server = await servePglite(handle.pglite, embeddedSocketPath(dataDir));
    const removeSocket = () => rmSync(server.socketPath, { force: true });
    process.once("exit", removeSocket);
    return {
      dataDir,
      server,
      pglite: handle.pglite,
      release: () => {
        process.off("exit", removeSocket);
        lock();
      },
    };
  } catch (error) {
    lock();
    throw error;
  }
}

async function openUnlockedPglite(dataDir: string): Promise<DbHandle & { pglite: PGlite }> {
  const pglite = new PGlite({ dataDir });
  await pglite.waitReady;
  return {
    db: drizzlePglite(pglite, drizzleOptions) as unknown as Db,
    pglite,
    kind: "pglite",
    close: () => pglite.close(),
  };
}

async function stopHosting(): Promise<void> {
  const host = await globalForHost.__payrunEmbeddedHost?.catch(() => null);
  globalForHost.__payrunEmbeddedHost = undefined;
  if (!host) return;
  await host.server.close();
  await host.pglite.close();
  host.release();
}

function connectSocket(socketPath: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/**
 * A connection to the embedded database at `dataDir`, for postgres.js: to the process serving it,
 * or, when none does (none yet, or the one that did has exited), to this process after it starts
 * serving it. So any process can come and go: the next connection finds or becomes the server.
 */
async function embeddedSocket(dataDir: string, waitMs = 120_000): Promise<Socket> {
  const socketPath = embeddedSocketPath(dataDir);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const mine = await globalForHost.__payrunEmbeddedHost;
    if (mine && mine.dataDir === dataDir) return connectSocket(socketPath);
    if (mine === null) globalForHost.__payrunEmbeddedHost = undefined;
    const holder = lockHolder(dataDir);
    if (!holder) {
      globalForHost.__payrunEmbeddedHost ??= hostEmbedded(dataDir).catch((error) => {
        globalForHost.__payrunEmbeddedHost = undefined;
        throw error;
      });
      continue;
    }
    try {
      return await connectSocket(socketPath);
    } catch (error) {
      // The holder is still opening and migrating the database, or it is a process that opened the
      // data dir for itself (openPglite) and serves nobody.
      if (Date.now() > deadline) {
        throw new Error(
          `the embedded database ${dataDir} is held by process ${holder}, which does not serve it on ${socketPath} (${(error as Error).message}); stop that process or set PGLITE_DIR`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * The embedded database at `dataDir` through postgres.js, the driver the app uses on Postgres: every
 * process (the app, each CLI) is a client of the one that serves it (db/pglite-server.ts), which
 * may be this one. Closing it stops serving if this process did; the others' next connections
 * serve it from one of them.
 */
export function connectEmbedded(
  dataDir: string,
  options: { max?: number } = {},
): DbHandle & { ready: Promise<void> } {
  // `socket` (a function giving a connected socket) is in postgres.js's README ("Custom socket") but
  // not in its types.
  const client = postgres({
    socket: () => embeddedSocket(dataDir),
    user: "postgres",
    database: "postgres",
    prepare: false,
    max: options.max ?? 10,
    onnotice: () => {},
  } as postgres.Options<Record<string, never>>);
  const db = drizzlePostgres(client, drizzleOptions) as unknown as Db;
  // The first connection serves the database if nobody does yet (and migrates it), so a bad data
  // dir or a holder that serves nobody shows here rather than at the first query.
  const ready = embeddedSocket(dataDir).then((socket) => void socket.destroy());
  return {
    db,
    kind: "pglite-socket",
    ready,
    close: async () => {
      await ready.catch(() => undefined);
      await client.end({ timeout: 5 });
      await stopHosting();
    },
  };
}

type AppDb = { handle: Pick<DbHandle, "close">; ready: Promise<Db> };
const globalForDb = globalThis as typeof globalThis & { __payrunDb?: AppDb };

/**
 * The app's database: postgres.js to DATABASE_URL when set, else to the embedded PGlite in
 * PGLITE_DIR, served on a local socket by whichever process opened it first (connectEmbedded).
 * One per process (kept on globalThis across dev reloads).
 */
export function getDb(): Promise<Db> {
  if (!globalForDb.__payrunDb) {
    const handle = connectConfigured({
      DATABASE_URL: process.env.DATABASE_URL,
      PGLITE_DIR: process.env.PGLITE_DIR,
    });
    globalForDb.__payrunDb = { handle, ready: handle.ready.then(() => handle.db) };
  }
  return globalForDb.__payrunDb.ready;
}

/**
 * Serve `db` as the app's database in this process (what getDb returns from now on): for tests
 * and the fault harness, which call route handlers in-process against their own database.
 */
export function setAppDb(db: Db): void {
  // Its owner closes it, not closeAppDb.
  globalForDb.__payrunDb = { handle: { close: async () => {} }, ready: Promise.resolve(db) };
}

/** A handle of its own on the configured database (DATABASE_URL, else PGLITE_DIR), for the CLIs. */
export async function connectDatabase(
  config: { DATABASE_URL?: string; PGLITE_DIR?: string },
  options: { max?: number } = {},
): Promise<DbHandle> {
  const handle = connectConfigured(config, options);
  await handle.ready;
  return handle;
}

function connectConfigured(
  config: { DATABASE_URL?: string; PGLITE_DIR?: string },
  options: { max?: number } = {},
): DbHandle & { ready: Promise<void> } {
  const url = config.DATABASE_URL?.trim();
  if (url) return { ...connectPostgres(url, options), ready: Promise.resolve() };
  return connectEmbedded(config.PGLITE_DIR?.trim() || ".data/pglite", options);
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
