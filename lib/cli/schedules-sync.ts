// npm run schedules:sync            print what would change in QStash (dry run)
// npm run schedules:sync -- --apply create or update the schedules
//
// Needs QSTASH_TOKEN (and QSTASH_URL for a non-default region or a local stand-in) and
// APP_BASE_URL, the public URL QStash calls. The definitions live in lib/scheduler/schedules.ts.
import { parseArgs } from "node:util";
import { loadEnv } from "../env";
import { qstashClient } from "../scheduler/dispatch";
import { scheduleDefinitions } from "../scheduler/schedules";
import { applyScheduleSync, planScheduleSync } from "../scheduler/sync";

const { values } = parseArgs({ options: { apply: { type: "boolean", default: false } } });
const env = loadEnv();
const definitions = scheduleDefinitions(env);

if (!env.QSTASH_TOKEN) {
  console.log("QSTASH_TOKEN is unset: the local scheduler fires these schedules (nothing to sync):");
  for (const d of definitions) console.log(`  ${d.id.padEnd(30)} ${d.cron.padEnd(14)} ${d.timeZone.padEnd(16)} POST ${d.path}`);
  process.exit(0);
}

const client = qstashClient(env);
const plan = await planScheduleSync(client, definitions, env.APP_BASE_URL);
for (const a of plan.actions) {
  console.log(`${a.action.padEnd(10)} ${a.scheduleId.padEnd(30)} ${a.cron.padEnd(34)} ${a.destination}${a.changes?.length ? `  (${a.changes.join("; ")})` : ""}`);
}
for (const id of plan.unmanaged) console.log(`unmanaged  ${id} (not defined in lib/scheduler/schedules.ts; left alone)`);
if (!values.apply) {
  console.log("\ndry run: nothing written. Run with --apply to write these to QStash.");
} else {
  const written = await applyScheduleSync(client, definitions, plan);
  console.log(`\napplied: ${written} schedule(s) created or updated.`);
}
