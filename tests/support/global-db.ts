import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { connectPostgres, migrateDb, openPglite } from "../../db/client";
import { adminUrl, databaseUrl, TEST_DATABASE_URL } from "./pg-urls";

declare module "vitest" {
  export interface ProvidedContext {
    pgliteDump: string;
    postgresTemplate: string;
    runTag: string;
  }
}

// Migrate once per test run; every suite then starts from a copy (a dump for PGlite, a template
// database for Postgres), so suites never see each other's rows and never pay for migrations again.
export default async function setup(project: TestProject) {
  const runTag = `${process.pid}_${Date.now().toString(36)}`;
  project.provide("runTag", runTag);

  if (project.name === "pglite") {
    const handle = await openPglite();
    await migrateDb(handle);
    const dump = await handle.pglite.dumpDataDir("none");
    const dumpPath = path.join(os.tmpdir(), `payrun-pglite-${runTag}.tar`);
    writeFileSync(dumpPath, Buffer.from(await dump.arrayBuffer()));
    await handle.close();
    project.provide("pgliteDump", dumpPath);
    project.provide("postgresTemplate", "");
    return;
  }

  // Real Postgres: fail loudly if it is not there; these tests must never be skipped.
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  try {
    await admin`select 1`;
  } catch (error) {
    await admin.end();
    throw new Error(
      `Postgres is not reachable at ${TEST_DATABASE_URL} (${(error as Error).message}). ` +
        "Start it (pg_ctlcluster 15 main start) or set TEST_DATABASE_URL.",
    );
  }
  const template = `payrun_tpl_${runTag}`;
  await admin.unsafe(`create database ${template}`);
  const handle = connectPostgres(databaseUrl(template), { max: 1 });
  await migrateDb(handle);
  await handle.close();
  project.provide("postgresTemplate", template);
  project.provide("pgliteDump", "");

  return async () => {
    const leftovers = await admin<{ datname: string }[]>`
      select datname from pg_database where datname like ${`payrun_%${runTag}%`}`;
    for (const { datname } of leftovers) await admin.unsafe(`drop database if exists ${datname} with (force)`);
    await admin.end();
  };
}
