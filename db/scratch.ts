import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { connectPostgres, type DbHandle, migrateDb, openPglite } from "./client";

export type ScratchDb = {
  handle: DbHandle;
  /** What an app process needs to reach the same database (DATABASE_URL or PGLITE_DIR). */
  env: Record<string, string>;
  /** null when it fell back to PGlite */
  databaseUrl: string | null;
  drop(): Promise<void>;
};

/**
 * A fresh, migrated database for a benchmark or the browser tests: a new database on the Postgres
 * server at `serverUrl` when it answers, else a temporary PGlite data directory. `drop` removes it.
 */
export async function openScratchDatabase(options: {
  serverUrl: string;
  prefix: string;
  log: (line: string) => void;
}): Promise<ScratchDb> {
  const name = `${options.prefix}_${Date.now()}_${randomBytes(3).toString("hex")}`;
  const admin = postgres(options.serverUrl, { max: 1, onnotice: () => {}, connect_timeout: 3 });
  try {
    await admin.unsafe(`create database ${name}`);
    const url = new URL(options.serverUrl);
    url.pathname = `/${name}`;
    const handle = connectPostgres(url.toString(), { max: 4 });
    await migrateDb(handle);
    options.log(`scratch database ${name} on ${url.host}`);
    return {
      handle,
      env: { DATABASE_URL: url.toString() },
      databaseUrl: url.toString(),
      drop: async () => {
        await handle.close().catch(() => {});
        await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
        await admin.end({ timeout: 2 });
      },
    };
  } catch (error) {
    await admin.end({ timeout: 1 }).catch(() => {});
    options.log(`Postgres unavailable (${(error as Error).message}); using embedded PGlite`);
    const dir = mkdtempSync(path.join(os.tmpdir(), `${options.prefix}-pglite-`));
    const dataDir = path.join(dir, "data");
    const handle = await openPglite({ dataDir });
    await migrateDb(handle);
    return {
      handle,
      env: { PGLITE_DIR: dataDir },
      databaseUrl: null,
      drop: async () => {
        await handle.close().catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
