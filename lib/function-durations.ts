// How long each Vercel function may run. vercel.json is the one source: Vercel reads it at deploy,
// the app reads it here for its time budgets. No route exports `maxDuration`, because Vercel's
// Next.js builder lets a route's export override vercel.json (vercel/vercel, packages/next/src/utils.ts:
// `opts = { ...vercelConfigOpts, ...manifestOpts }`), and a second value would drift from this one.
// tests/unit/function-durations.test.ts fails if a route exports one or the values below disagree.
import vercel from "../vercel.json";

export type FunctionPattern = keyof typeof vercel.functions;

export function vercelMaxDurationSeconds(pattern: FunctionPattern): number {
  return vercel.functions[pattern].maxDuration;
}

/** The functions that work in slices and hand the rest to a continuation. */
export const SLICED_FUNCTIONS = [
  "app/internal/payouts/run/route.ts",
  "app/internal/payouts/continue/route.ts",
  "app/internal/sweeps/**/*.ts",
] as const satisfies readonly FunctionPattern[];

/**
 * The sliced functions' maxDuration (they share one, so one slice length serves the run, its
 * continuations and the sweeps). A slice works for a third of it (lib/time.ts).
 */
export const SLICED_FUNCTION_MAX_DURATION_SECONDS: number = (() => {
  const values = new Set(SLICED_FUNCTIONS.map(vercelMaxDurationSeconds));
  if (values.size !== 1) {
    throw new Error(`vercel.json: ${SLICED_FUNCTIONS.join(", ")} must share one maxDuration (found ${[...values].join(", ")})`);
  }
  return [...values][0]!;
})();
