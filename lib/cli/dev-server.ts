// What the commands that run the app locally share (npm start, the benchmarks, the browser tests):
// is the production build older than the sources, a free port, and waiting for a server to answer.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";

/** Everything `next build` compiles or reads: a change to any of these makes the build stale. */
const SOURCE_DIRS = ["app", "lib", "db"];
const SOURCE_FILES = ["package.json", "next.config.ts", "tsconfig.json", "instrumentation.ts", "proxy.ts"];

function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** No build yet, or a source file changed after the last `next build`. */
export function buildIsStale(root = process.cwd()): boolean {
  const buildId = path.join(root, ".next", "BUILD_ID");
  if (!existsSync(buildId)) return true;
  const sources = Math.max(
    ...SOURCE_DIRS.map((d) => newestMtime(path.join(root, d))),
    ...SOURCE_FILES.map((f) => (existsSync(path.join(root, f)) ? statSync(path.join(root, f)).mtimeMs : 0)),
  );
  return statSync(buildId).mtimeMs < sources;
}

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/**
 * Poll `url` until it answers the way `ready` wants (by default: any status below 500), failing
 * early if the server's process has exited.
 */
export async function waitForHttp(
  url: string,
  options: {
    timeoutMs: number;
    child?: ChildProcess;
    init?: RequestInit;
    ready?: (res: Response) => boolean;
  },
): Promise<void> {
  const ready = options.ready ?? ((res: Response) => res.status < 500);
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    if (options.child && options.child.exitCode !== null) {
      throw new Error(`the server for ${url} exited with ${options.child.exitCode}`);
    }
    try {
      if (ready(await fetch(url, { redirect: "manual", ...options.init }))) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} did not answer within ${options.timeoutMs / 1000}s`);
}

/**
 * Run a command with its output on ours, and say every 15 s that it is still going and for how long,
 * so a long quiet step never looks hung. Resolves with its exit status.
 */
export function runWithProgress(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; what: string; everyMs?: number },
): Promise<number> {
  const started = Date.now();
  console.info(`[payrun] ${options.what}...`);
  const child = spawn(command, args, { stdio: "inherit", env: options.env });
  const timer = setInterval(() => {
    console.info(`[payrun] still ${options.what.split(" (")[0]}: ${Math.round((Date.now() - started) / 1000)} s`);
  }, options.everyMs ?? 15_000);
  return new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      clearInterval(timer);
      const outcome = code === 0 ? "done" : "failed";
      console.info(`[payrun] ${options.what.split(" (")[0]}: ${outcome} after ${Math.round((Date.now() - started) / 1000)} s`);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}
