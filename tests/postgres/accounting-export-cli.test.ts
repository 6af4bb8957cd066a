import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { payees } from "@/db/schema";
import type { JOURNAL_COLUMNS } from "@/lib/accounting/journal";
import { type PostingInput, postLedgerTransactions } from "@/lib/ledger";
import defaultMap from "@/lib/chart-of-accounts/gl-map.default.json";
import { createTestDb, type TestDb } from "../support/db";

// `npm run accounting:export` as finance runs it: its own process on the database (a child needs
// the real server; PGlite is one process), the journal to a file, a balanced summary; a bad range
// or an unmapped ledger account stops it with a message and nothing written.

let t: TestDb;
const dir = mkdtempSync(path.join(os.tmpdir(), "payrun-export-"));

function runExport(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "lib/cli/accounting-export.ts", ...args], {
    env: { ...process.env, NODE_ENV: "test", DATABASE_URL: t.url!, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr })));
}

beforeAll(async () => {
  t = await createTestDb();
  const [payee] = await t.db
    .insert(payees)
    .values({ displayName: "Cli Carla", email: "c@example.com" })
    .returning({ id: payees.id });
  const postings: PostingInput[] = Array.from({ length: 25 }, (_, i) => ({
    idempotencyKey: `cli:${i}`,
    kind: "earning",
    description: `Charge ${i}`,
    currency: i % 5 === 0 ? "eur" : "usd",
    payeeId: payee!.id,
    effectiveAt: new Date(Date.UTC(2026, 2, 1 + i, 12)),
    lines: [
      { kind: "stripe_clearing", amount: -(1_000 + i) },
      { payeeId: payee!.id, kind: "available", location: "connected", amount: 900 + i },
      { kind: "fees", amount: 100 },
    ],
  }));
  await postLedgerTransactions(t.db, postings);
});
afterAll(() => t.close());

describe("npm run accounting:export", () => {
  it("writes the period's journal to a file and says it balances", async () => {
    const out = path.join(dir, "march.csv");
    const { code, stderr } = await runExport(["--from=2026-03-01", "--to=2026-03-10", `--out=${out}`]);
    expect(code).toBe(0);
    const rows = parse(readFileSync(out, "utf8"), { columns: true }) as Record<
      (typeof JOURNAL_COLUMNS)[number],
      string
    >[];
    expect(rows.length).toBe(30);
    expect(new Set(rows.map((r) => r.date)).size).toBe(10);
    expect(stderr).toMatch(/exported 30 rows \(10 transactions\)/);
    expect(stderr).toMatch(/rows\/s, peak RSS \d+ MB/);
    expect(stderr).toContain("EUR: debits 20.05, credits 20.05");
    expect(stderr).not.toContain("NOT BALANCED");
  });

  it("to standard output, one currency", async () => {
    const { code, stdout } = await runExport(["--from=2026-03-01", "--to=2026-03-31", "--currency=EUR"]);
    expect(code).toBe(0);
    const rows = parse(stdout, { columns: true }) as Record<string, string>[];
    expect(rows.length).toBe(15);
    expect(new Set(rows.map((r) => r.currency))).toEqual(new Set(["EUR"]));
  });

  it("a bad range or an unmapped account stops it with a message and writes nothing", async () => {
    const backwards = await runExport(["--from=2026-03-10", "--to=2026-03-01"]);
    expect(backwards.code).toBe(2);
    expect(backwards.stderr).toContain("--from: must not be after to");
    expect(backwards.stdout).toBe("");
    // No 366-day limit here, unlike the API.
    expect(
      (await runExport(["--from=2024-01-01", "--to=2026-12-31", `--out=${path.join(dir, "long.csv")}`])).code,
    ).toBe(0);

    const map = path.join(dir, "gl.json");
    writeFileSync(
      map,
      JSON.stringify(Object.fromEntries(Object.entries(defaultMap).filter(([k]) => k !== "platform.fees"))),
    );
    const unmapped = await runExport(["--from=2026-03-01", "--to=2026-03-10"], {
      ACCOUNTING_GL_MAP_FILE: map,
    });
    expect(unmapped.code).toBe(1);
    expect(unmapped.stderr).toContain("ledger account platform.fees has no GL account");
    expect(unmapped.stdout).toBe("");
  });
});
