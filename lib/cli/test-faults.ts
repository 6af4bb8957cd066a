// `npm run test:faults -- --schedules 500 [--seed S] [--from N] [--db postgres|pglite] [--parallel P]`:
// the randomized fault suite (lib/faults). Prints one line per schedule, the violations and the
// replay command of each failing seed, and a summary; exits 1 if any schedule failed.
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { logTail, replayCommand, runFaultSuite, type ScheduleOutcome } from "../faults/runner";

const { values } = parseArgs({
  options: {
    schedules: { type: "string", default: "20" },
    seed: { type: "string" },
    from: { type: "string", default: "1" },
    db: { type: "string", default: "postgres" },
    parallel: { type: "string", default: "2" },
    timeout: { type: "string", default: "150" },
    "keep-logs": { type: "boolean", default: false },
  },
});

const db = values.db === "pglite" ? "pglite" : "postgres";
if (values.db !== db) throw new Error(`--db must be postgres or pglite, not ${values.db}`);
const from = Number(values.from);
const seeds = values.seed ? [Number(values.seed)] : Array.from({ length: Number(values.schedules) }, (_, i) => from + i);
if (seeds.some((s) => !Number.isSafeInteger(s))) throw new Error("--seed, --from and --schedules take integers");
const logDir = path.join(".data", "faults");
const started = Date.now();

const line = (o: ScheduleOutcome) => {
  const s = o.stats;
  const detail = s
    ? `${s.invocations} invocations, ${s.abandoned} abandoned, ${s.continuations} continuations, ${s.webhookDeliveries} webhooks, ${s.stripeFaults}/${s.stripeRequests} Stripe faults, ${s.resumes} stalls`
    : "";
  return `seed ${o.seed} ${o.ok ? "ok  " : o.timedOut ? "HANG" : "FAIL"} ${(o.durationMs / 1000).toFixed(1)}s ${detail}`;
};

const outcomes = await runFaultSuite({
  seeds,
  db,
  serverUrl: process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  parallel: db === "pglite" ? Math.min(Number(values.parallel), os.cpus().length) : Number(values.parallel),
  timeoutMs: Number(values.timeout) * 1000,
  logDir,
  keepLogs: values["keep-logs"],
  onOutcome: (o) => console.log(line(o)),
});

const failed = outcomes.filter((o) => !o.ok);
for (const o of failed) {
  console.log(`\n--- seed ${o.seed} ${o.timedOut ? "hung" : "failed"} (log: ${o.logFile})`);
  for (const v of o.violations.slice(0, 20)) console.log(`  ${v}`);
  if (o.violations.length > 20) console.log(`  ... ${o.violations.length - 20} more`);
  if (o.harnessError) console.log(`  harness error: ${o.harnessError.split("\n").slice(0, 6).join("\n    ")}`);
  if (o.timedOut) console.log(`  last log lines:\n${logTail(o.logFile, 8).replace(/^/gm, "    ")}`);
  console.log(`  replay: ${replayCommand(o.seed, db)}`);
}
const seconds = (Date.now() - started) / 1000;
const busy = outcomes.reduce((sum, o) => sum + o.durationMs, 0) / 1000;
console.log(
  `\n${outcomes.length} schedules on ${db}: ${outcomes.length - failed.length} passed, ${failed.length} failed` +
    ` (${failed.filter((o) => o.timedOut).length} hung) in ${seconds.toFixed(0)} s; ${(busy / Math.max(1, outcomes.length)).toFixed(1)} s per schedule`,
);
if (failed.length) console.log(`failing seeds: ${failed.map((o) => o.seed).join(" ")}`);
process.exit(failed.length ? 1 : 0);
