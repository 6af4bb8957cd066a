import { appendFileSync, mkdirSync } from "node:fs";
import postgres from "postgres";
import { connectPostgres, type DbHandle, migrateDb, openPglite } from "../../db/client";
import { abandonablePglite, abandonablePostgres, installRequestGates } from "./abandon";
import { checkInvariants, reconciliationBreaks } from "./invariants";
import { planSchedule } from "./plan";
import { type ScheduleOutcome, scheduleDatabaseName, scheduleLogFile, type WorkRequest } from "./runner";
import { ScheduleRun, ScheduleStopped } from "./schedule";

// A child process of the fault suite (runner.ts forks this file; nothing imports it): runs the
// schedules it is sent, one at a time, and answers each with its result. A schedule that hangs (an endless microtask loop stops every timer
// in the process) is detected by the parent, which kills this process and starts another.

let pgliteDump: Blob | undefined;

async function openScheduleDatabase(request: WorkRequest): Promise<DbHandle & { drop(): Promise<void> }> {
  if (request.db === "pglite") {
    if (!pgliteDump) {
      const template = await openPglite();
      await migrateDb(template);
      pgliteDump = await template.pglite.dumpDataDir("none");
      await template.close();
    }
    const handle = await openPglite({ loadDataDir: pgliteDump, wrapClient: abandonablePglite });
    return { ...handle, drop: () => handle.close() };
  }
  const name = scheduleDatabaseName(request.tag, request.seed);
  const admin = postgres(request.serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.unsafe(`create database ${name} template ${request.template}`);
  } finally {
    await admin.end();
  }
  const url = new URL(request.serverUrl);
  url.pathname = `/${name}`;
  const handle = connectPostgres(url.toString(), { max: 12, wrapClient: abandonablePostgres });
  return {
    ...handle,
    drop: async () => {
      await handle.close().catch(() => {});
      const dropper = postgres(request.serverUrl, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
      await dropper.end();
    },
  };
}

async function runSchedule(request: WorkRequest): Promise<ScheduleOutcome> {
  const started = Date.now();
  const logFile = scheduleLogFile(request.logDir, request.seed);
  mkdirSync(request.logDir, { recursive: true });
  const log = (line: string) => appendFileSync(logFile, `${((Date.now() - started) / 1000).toFixed(2)}s ${line}\n`);
  // The app's own logs (errors it reports while faults hit it) go to the seed's file, not the terminal.
  for (const level of ["info", "warn", "error", "log"] as const) console[level] = (...args: unknown[]) => log(`[app ${level}] ${args.map(String).join(" ").slice(0, 2000)}`);
  const plan = planSchedule(request.seed);
  log(`plan ${JSON.stringify(plan)}`);
  const database = await openScheduleDatabase(request);
  const schedule = new ScheduleRun(plan, database.db, log);
  let violations: string[] = [];
  let harnessError: string | undefined;
  try {
    await schedule.start();
    await schedule.run();
    violations = await checkInvariants(database.db, schedule.facts());
    violations.push(...(await reconciliationBreaks(database.db, schedule.facts())));
  } catch (error) {
    if (error instanceof ScheduleStopped) violations = [error.message];
    else {
      harnessError = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`harness error: ${harnessError}`);
    }
  } finally {
    await schedule.stop().catch(() => {});
    await database.drop();
  }
  for (const v of violations) log(`VIOLATION ${v}`);
  return {
    seed: request.seed,
    ok: violations.length === 0 && harnessError === undefined,
    violations,
    harnessError,
    durationMs: Date.now() - started,
    stats: schedule.stats,
    logFile,
  };
}

// Forked by the runner with an IPC channel: serve requests until told to stop.
if (process.send) {
  installRequestGates();
  process.on("unhandledRejection", (reason) => {
    // A dead invocation's stray rejection must not take the worker down; it is logged per seed.
    process.stderr.write(`unhandled rejection: ${String(reason)}\n`);
  });
  process.on("message", (request: WorkRequest | "stop") => {
    if (request === "stop") process.exit(0);
    runSchedule(request).then(
      (outcome) => process.send!(outcome),
      (error: Error) =>
        process.send!({
          seed: request.seed,
          ok: false,
          violations: [],
          harnessError: error.stack ?? error.message,
          durationMs: 0,
          logFile: scheduleLogFile(request.logDir, request.seed),
        } satisfies ScheduleOutcome),
    );
  });
  // The parent tells a blocked event loop (an endless microtask loop) from slow progress by these.
  setInterval(() => process.send?.({ alive: Date.now() }), 1000).unref();
  process.send("ready");
}
