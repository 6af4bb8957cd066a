import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EnvError, loadEnv } from "@/lib/env";
import { SLICED_FUNCTION_MAX_DURATION_SECONDS, SLICED_FUNCTIONS, vercelMaxDurationSeconds } from "@/lib/function-durations";
import { invocationBudgetMs } from "@/lib/time";
import vercel from "@/vercel.json";

const root = path.resolve(import.meta.dirname, "../..");

function filesUnder(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = `${dir}/${entry.name}`;
    return entry.isDirectory() ? filesUnder(rel) : [rel];
  });
}

/** vercel.json's glob (`**` any folders, `*` within one) as a regular expression. */
function globRegExp(glob: string): RegExp {
  const source = glob
    .split("**/")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*"))
    .join("(?:.*/)?");
  return new RegExp(`^${source}$`);
}

describe("maxDuration: vercel.json is the one source", () => {
  const appFiles = filesUnder("app").filter((f) => /\.(ts|tsx)$/.test(f));

  it("no route or page exports maxDuration (Vercel would let it override vercel.json)", () => {
    const exporting = appFiles.filter((f) => /export\s+const\s+maxDuration\b/.test(readFileSync(path.join(root, f), "utf8")));
    expect(exporting).toEqual([]);
  });

  it("every vercel.json pattern still names a file (a renamed route would lose its limit)", () => {
    for (const pattern of Object.keys(vercel.functions)) {
      expect(appFiles.some((f) => globRegExp(pattern).test(f)), pattern).toBe(true);
    }
  });

  it("the run, its continuation and the sweeps share one maxDuration, the time budget's default", () => {
    expect(new Set(SLICED_FUNCTIONS.map(vercelMaxDurationSeconds))).toEqual(new Set([SLICED_FUNCTION_MAX_DURATION_SECONDS]));
    const env = loadEnv({});
    expect(env.PAYOUT_FUNCTION_MAX_DURATION_SECONDS).toBe(vercel.functions["app/internal/payouts/run/route.ts"].maxDuration);
    expect(invocationBudgetMs(env)).toBe(Math.floor((SLICED_FUNCTION_MAX_DURATION_SECONDS * 1000) / 3));
  });

  it("PAYOUT_FUNCTION_MAX_DURATION_SECONDS may shorten the slice (tests, drills), never lengthen it", () => {
    expect(invocationBudgetMs(loadEnv({ PAYOUT_FUNCTION_MAX_DURATION_SECONDS: "30" }))).toBe(10_000);
    expect(() => loadEnv({ PAYOUT_FUNCTION_MAX_DURATION_SECONDS: String(SLICED_FUNCTION_MAX_DURATION_SECONDS + 1) })).toThrow(EnvError);
    expect(() => loadEnv({ PAYOUT_FUNCTION_MAX_DURATION_SECONDS: String(SLICED_FUNCTION_MAX_DURATION_SECONDS + 1) })).toThrow(
      /may only shorten/,
    );
  });
});
