import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CSV_COLUMNS } from "../../../lib/statements/annual";
import { seedPayee } from "../../integration/payouts/helpers";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";

// `npm run statements:export -- --year=YYYY --out=FILE` as ops run it: its own process on the
// database, a CSV file with a header and a row per payee and currency; a bad year is refused.

const run = promisify(execFile);
let t: TestDb;
let ts: TestStripe;
let dir: string;

beforeAll(async () => {
  [t, ts] = await Promise.all([createTestDb(), startTestStripe()]);
  dir = mkdtempSync(path.join(tmpdir(), "payrun-statements-"));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await ts?.close();
  await t?.close();
});

const cli = (args: string[]) =>
  run(process.execPath, ["--import", "tsx", "lib/cli/statements-export.ts", ...args], {
    env: { ...process.env, NODE_ENV: "test", DATABASE_URL: t.url, PAYOUT_TIMEZONE: "UTC" },
  });

describe("statements:export", () => {
  it("writes every payee's year to a CSV file", async () => {
    const a = await seedPayee(t.db, ts, { connectedCents: 4_500 });
    const b = await seedPayee(t.db, ts, { platformCents: 3_000 });
    // seedPayee's earnings are effective 30 days ago
    const year = new Date(Date.now() - 30 * 86_400_000).getUTCFullYear();
    const out = path.join(dir, "statements.csv");
    const { stderr } = await cli([`--year=${year}`, `--out=${out}`]);
    expect(stderr).toMatch(/2 payees with movement/);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    expect(lines[0]).toBe(CSV_COLUMNS.join(","));
    expect(lines).toHaveLength(3);
    expect(lines.find((l) => l.startsWith(a.payeeId))).toContain(`,${year},usd,4500,`);
    expect(lines.find((l) => l.startsWith(b.payeeId))).toContain(`,${year},usd,3000,`);
  });

  it("refuses a missing or bad year", async () => {
    await expect(cli(["--year=19"])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--year=YYYY is required/),
    });
    await expect(cli([])).rejects.toMatchObject({ code: 2 });
  });
});
