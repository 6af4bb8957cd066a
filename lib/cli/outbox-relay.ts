// npm run outbox:relay [-- --loop] : publish due outbox events once (or every 10 s with --loop).
import { parseArgs } from "node:util";
import { closeAppDb, getDb } from "../../db/client";
import { loadEnv } from "../env";
import { relayOutbox } from "../notify/relay";

const { values } = parseArgs({ options: { loop: { type: "boolean", default: false }, limit: { type: "string", default: "200" } } });
const env = loadEnv();
const db = await getDb();
try {
  do {
    const result = await relayOutbox(db, env, { limit: Number(values.limit) });
    console.log(JSON.stringify({ at: new Date().toISOString(), ...result }));
    if (values.loop) await new Promise((r) => setTimeout(r, 10_000));
  } while (values.loop);
} finally {
  await closeAppDb();
}
