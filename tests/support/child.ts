import { type ChildProcess, spawn } from "node:child_process";
import type { TestDb } from "./db";
import type { TestStripe } from "./stripe";

/**
 * A script of ours (tests/support/*.ts) in its own Node process, on this suite's Postgres database
 * and simulator: for what a test must be able to kill (a hung event loop, a SIGKILLed instance).
 */
export function spawnTsx(script: string, t: TestDb, ts: TestStripe, env: Record<string, string> = {}): ChildProcess {
  if (!t.url) throw new Error("a child process needs a Postgres database (tests/postgres/): PGlite is one process");
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: {
      ...process.env,
      NODE_ENV: "test",
      DATABASE_URL: t.url,
      STRIPE_API_BASE_URL: ts.simulator.url,
      STRIPE_SECRET_KEY: "sk_test_simulator",
      QSTASH_TOKEN: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr!.on("data", () => undefined);
  return child;
}

/** The first stdout line matching `pattern`, or an error if the process ends without one. */
export function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = pattern.exec(out);
      if (match) resolve(match);
    });
    child.once("exit", (code) => reject(new Error(`process exited with ${code} before printing ${pattern}: ${out}`)));
  });
}
