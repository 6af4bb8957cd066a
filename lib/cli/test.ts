// `npm test`: every vitest project (unit, pglite, postgres), then a plain `N passed, N failed` line.
// Extra arguments go to vitest (e.g. `npm test -- --project unit`). Before vitest, the test files
// are scanned for early returns in test bodies (lib/cli/check-tests.ts): such a test would pass
// without checking anything, so each one counts as a failure.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { checkTests } from "./check-tests";

type VitestJson = { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number; success: boolean };

const earlyReturns = checkTests();
for (const r of earlyReturns) console.error(`${r.file}:${r.line}: test "${r.test}" returns early: it would pass without checking anything`);

mkdirSync(".data", { recursive: true });
const report = ".data/vitest-report.json";
rmSync(report, { force: true });

const result = spawnSync(
  "npx",
  ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } },
);

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const summary = JSON.parse(readFileSync(report, "utf8")) as VitestJson;
  passed = summary.numPassedTests;
  failed = summary.numFailedTests;
  skipped = summary.numPendingTests + summary.numTodoTests;
}
// A crash before any test ran (e.g. Postgres unreachable in global setup) is a failure, not "0 tests".
if (result.status !== 0 && failed === 0) failed = 1;
if (skipped > 0) {
  console.error(`${skipped} test(s) skipped: nothing may be skipped silently; counting them as failures`);
  failed += skipped;
}
if (earlyReturns.length > 0) {
  console.error(`${earlyReturns.length} early return(s) in test bodies: counting them as failures`);
  failed += earlyReturns.length;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(result.status === 0 && failed === 0 ? 0 : 1);
