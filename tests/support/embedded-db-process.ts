// A process on the embedded default (PGLITE_DIR) that opens the app's database the way the app and the
// CLIs do (getDb), writes one row, prints `serving <pid>` and stays until it is killed: the first
// such process serves the database to the others.
import { sql } from "drizzle-orm";
import { getDb } from "../../db/client";

const db = await getDb();
await db.execute(sql`create table if not exists embedded_probe (pid int primary key, at timestamptz not null default now())`);
await db.execute(sql`insert into embedded_probe (pid) values (${process.pid})`);
console.log(`serving ${process.pid}`);
setInterval(() => undefined, 60_000);
