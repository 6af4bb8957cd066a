import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { connectPostgres, migrateDb } from "../../db/client";
import { outageFloorMs, planSchedule } from "./plan";
import type { ScheduleStats } from "./schedule";

// The fault suite's driver: schedules run in child processes (worker.ts), a few at a time, each under
// a time limit. A schedule that hangs cannot be timed out from inside its own process (a microtask
// loop starves every timer), so the parent kills that child, records the seed as hung, and starts
// another child for the rest.

export type WorkRequest = { seed: number; db: "postgres" | "pglite"; serverUrl: string; template: string; tag: string; logDir: string };

export type ScheduleOutcome = {
  seed: number;
  ok: boolean;
  violations: string[];
  /** The suite itself failed (not an invariant): its own bug, or a step the app refused unexpectedly. */
  harnessError?: string;
  timedOut?: boolean;
  durationMs: number;
  stats?: ScheduleStats;
  logFile: string;
};

export type SuiteOptions = {
  seeds: number[];
  db: "postgres" | "pglite";
  /** Postgres server (any database on it); the suite makes and drops its own databases there. */
  serverUrl: string;
  parallel: number;
  /** A schedule still running after this long has hung. */
  timeoutMs: number;
  logDir: string;
  /** Keep the logs of schedules that passed (failing ones are always kept). */
  keepLogs?: boolean;
  onOutcome?: (outcome: ScheduleOutcome) => void;
};

export const scheduleDatabaseName = (tag: string, seed: number) => `payrun_faults_${tag}_s${seed}`;
export const scheduleLogFile = (logDir: string, seed: number) => path.join(logDir, `seed-${seed}.log`);

/** The command that runs one seed again. */
export const replayCommand = (seed: number, db: "postgres" | "pglite") =>
  `npm run test:faults -- --seed ${seed}${db === "pglite" ? " --db pglite" : ""}`;

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), "worker.ts");

function startWorker(): Promise<ChildProcess> {
  const child = fork(WORKER, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "ignore", "pipe", "ipc"] });
  child.stderr?.on("data", () => {});
  return new Promise((resolve, reject) => {
    child.once("message", (m) => (m === "ready" ? resolve(child) : reject(new Error(`worker said ${String(m)}`))));
    child.once("exit", (code) => reject(new Error(`fault suite worker exited with ${code} before it was ready`)));
  });
}

export async function runFaultSuite(options: SuiteOptions): Promise<ScheduleOutcome[]> {
  const tag = `${process.pid}_${randomBytes(3).toString("hex")}`;
  let template = "";
  if (options.db === "postgres") {
    template = `payrun_faults_tpl_${tag}`;
    const admin = postgres(options.serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${template}`);
    await admin.end();
    const url = new URL(options.serverUrl);
    url.pathname = `/${template}`;
    const handle = connectPostgres(url.toString(), { max: 1 });
    await migrateDb(handle);
    await handle.close();
  }

  const queue = [...options.seeds];
  const outcomes: ScheduleOutcome[] = [];
  const lane = async () => {
    let child: ChildProcess | undefined;
    while (queue.length > 0) {
      const seed = queue.shift()!;
      child ??= await startWorker();
      const request: WorkRequest = { seed, db: options.db, serverUrl: options.serverUrl, template, tag, logDir: options.logDir };
      // The base budget, plus twice what the schedule's own outages take at its rate limits (each
      // slice also pays a lookup per payout tried before, and each cycle of the schedule meets them).
      const outcome = await runOnWorker(child, request, options.timeoutMs + 2 * outageFloorMs(planSchedule(seed)));
      if (outcome.timedOut || !child.connected) {
        child.kill("SIGKILL");
        child = undefined;
        await dropDatabase(options, scheduleDatabaseName(tag, seed));
      }
      if (outcome.ok && !options.keepLogs) rmSync(outcome.logFile, { force: true });
      outcomes.push(outcome);
      options.onOutcome?.(outcome);
    }
    if (child?.connected) child.send("stop");
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallel, options.seeds.length)) }, lane));
  } finally {
    if (template) await dropDatabase(options, template);
  }
  return outcomes.sort((a, b) => a.seed - b.seed);
}

function runOnWorker(child: ChildProcess, request: WorkRequest, timeoutMs: number): Promise<ScheduleOutcome> {
  const started = Date.now();
  const logFile = scheduleLogFile(request.logDir, request.seed);
  return new Promise((resolve) => {
    const finish = (outcome: ScheduleOutcome) => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
      resolve(outcome);
    };
    let lastAlive = Date.now();
    const onMessage = (message: unknown) => {
      if (message && typeof message === "object" && "alive" in message) lastAlive = Date.now();
      else if (message && typeof message === "object" && (message as ScheduleOutcome).seed === request.seed) finish(message as ScheduleOutcome);
    };
    const onExit = (code: number | null) =>
      finish({ seed: request.seed, ok: false, violations: [], harnessError: `worker exited with ${code}`, durationMs: Date.now() - started, logFile });
    const timer = setTimeout(() => {
      const silent = Math.round((Date.now() - lastAlive) / 1000);
      const why =
        silent > 5
          ? `its event loop was blocked for the last ${silent} s (an endless microtask loop)`
          : "it was still working (a livelock, or far too slow)";
      finish({
        seed: request.seed,
        ok: false,
        timedOut: true,
        violations: [`liveness: the schedule did not finish within ${Math.round(timeoutMs / 1000)} s: ${why}; the process was killed`],
        durationMs: Date.now() - started,
        logFile,
      });
    }, timeoutMs);
    child.on("message", onMessage);
    child.once("exit", onExit);
    child.send(request);
  });
}

async function dropDatabase(options: SuiteOptions, name: string): Promise<void> {
  if (options.db !== "postgres") return;
  const admin = postgres(options.serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
  await admin.end();
}

/** The last lines of a schedule's log, for a failure report. */
export function logTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
