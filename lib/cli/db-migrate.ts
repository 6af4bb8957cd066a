// `npm run db:migrate`: apply db/migrations to DATABASE_URL (or the embedded PGlite when unset).
import { connectPostgres, migrateDb, openPglite } from "../../db/client";
import { getEnv } from "../env";

const env = getEnv();
const handle = env.DATABASE_URL
  ? connectPostgres(env.DATABASE_URL, { max: 1 })
  : await openPglite({ dataDir: env.PGLITE_DIR });
const where = env.DATABASE_URL ? new URL(env.DATABASE_URL).host : env.PGLITE_DIR;
try {
  await migrateDb(handle);
  console.log(`migrations applied to ${where}`);
} finally {
  await handle.close();
}
