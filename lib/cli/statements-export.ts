// npm run statements:export -- --year=YYYY [--out=FILE]: every payee's annual statement as CSV (one row
// per payee and currency: gross earnings, fees, refunds and disputes, adjustments, reserves, paid out
// by month, country and business type), to FILE or stdout. Read-only (read-only transactions), so no
// --confirm; runs beside npm start. Each total's ledger transactions: GET
// /api/v1/payees/:id/statements/:year?category=<column>&currency=<cur>.
import { createWriteStream } from "node:fs";
import { parseArgs } from "node:util";
import { closeAppDb, getDb } from "../../db/client";
import { getEnv } from "../env";
import { statementYear } from "../schemas/statements";
import { exportStatementsCsv } from "../statements/export";

async function main() {
  const { values } = parseArgs({ options: { year: { type: "string" }, out: { type: "string" } } });
  const year = statementYear.safeParse(values.year);
  if (!year.success) {
    console.error(
      "--year=YYYY is required (2000 to 2999), e.g. npm run statements:export -- --year=2026 --out=statements-2026.csv",
    );
    process.exit(2);
  }
  const env = getEnv();
  const db = await getDb();
  const out = values.out ? createWriteStream(values.out) : process.stdout;
  // Progress goes to stderr, and only on a terminal: stdout may be the CSV itself.
  const tty = process.stderr.isTTY;
  const started = Date.now();
  try {
    const result = await exportStatementsCsv(db, {
      year: year.data,
      timeZone: env.PAYOUT_TIMEZONE,
      out,
      onProgress: tty
        ? (payees, rows) => process.stderr.write(`\r${payees} payees, ${rows} rows…`)
        : undefined,
    });
    if (tty) process.stderr.write("\n");
    console.error(
      `${result.payees} payees with movement in ${year.data}, ${result.rows} rows${values.out ? ` in ${values.out}` : ""} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  } finally {
    await closeAppDb();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
