// `npm run db:migrate`: apply db/migrations to DATABASE_URL (or the embedded PGlite when unset, also
// while the app serves it: the migrations go through its socket).
import { connectDatabase, migrateDb } from "../../db/client";
import { getEnv } from "../env";

const env = getEnv();
const handle = await connectDatabase(env, { max: 1 });
const where = env.DATABASE_URL ? new URL(env.DATABASE_URL).host : env.PGLITE_DIR;
try {
  await migrateDb(handle);
  console.log(`migrations applied to ${where}`);
} finally {
  await handle.close();
}
