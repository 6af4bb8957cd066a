// One executor slice in its own process, for tests that must survive the executor hanging (a hung
// event loop cannot be timed out from inside): runs executePayoutRun on RUN_ID with a deadline
// DEADLINE_OFFSET_MS from now against DATABASE_URL and prints `{ ms, result }` as one JSON line.
import { closeAppDb, getDb } from "../../db/client";
import { getEnv } from "../../lib/env";
import { getStripeGateway } from "../../lib/stripe/client";
import { executePayoutRun } from "../../lib/payouts/execute";

const db = await getDb();
const started = Date.now();
const result = await executePayoutRun(db, getEnv(), getStripeGateway(), {
  runId: process.env.RUN_ID!,
  deadline: Date.now() + Number(process.env.DEADLINE_OFFSET_MS ?? 0),
});
console.log(JSON.stringify({ ms: Date.now() - started, result }));
await closeAppDb();
