// npm run accounting:export -- --from=YYYY-MM-DD --to=YYYY-MM-DD [--currency=usd] [--out=FILE]
// The journal (the same CSV as GET /api/v1/accounting/journal.csv, without its 366-day limit) to
// FILE, or to standard output. Read-only, so no --confirm; runs beside npm start (the embedded
// database is reached over its socket, as every CLI does). Progress on a terminal (stderr); at the
// end, rows, rows/s, peak memory and each currency's debits and credits (equal, or it exits 1).
// docs/ACCOUNTING.md.
import { createWriteStream, rmSync, statSync } from "node:fs";
import { once } from "node:events";
import { parseArgs } from "node:util";
import { closeAppDb, getDb } from "../../db/client";
import { journalCsv, newJournalProgress } from "../accounting/journal";
import { EnvError, loadEnv } from "../env";
import { toDecimalString } from "../money";
import { journalExportArgs } from "../schemas/accounting";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      from: { type: "string" },
      to: { type: "string" },
      currency: { type: "string" },
      out: { type: "string" },
    },
  });
  const args = journalExportArgs.safeParse({ from: values.from, to: values.to, currency: values.currency });
  if (!args.success) {
    for (const issue of args.error.issues) console.error(`--${issue.path.join(".")}: ${issue.message}`);
    console.error(
      "usage: npm run accounting:export -- --from=YYYY-MM-DD --to=YYYY-MM-DD [--currency=usd] [--out=FILE]",
    );
    return 2;
  }
  const env = loadEnv();
  const db = await getDb();
  const out = values.out ? createWriteStream(values.out) : process.stdout;
  const tty = process.stderr.isTTY;
  const progress = newJournalProgress();
  const started = Date.now();
  const cpuAtStart = process.resourceUsage().userCPUTime + process.resourceUsage().systemCPUTime;
  let lastDraw = 0;
  const draw = (final = false) => {
    const seconds = (Date.now() - started) / 1000;
    const rate = Math.round(progress.rows / Math.max(seconds, 0.001));
    const text = `${progress.rows.toLocaleString("en-US")} rows, ${progress.transactions.toLocaleString("en-US")} transactions, through ${progress.through ?? "-"} (${rate.toLocaleString("en-US")} rows/s)`;
    process.stderr.write(final ? `\r${text}\x1b[K\n` : `\r${text}\x1b[K`);
  };
  try {
    for await (const chunk of journalCsv(
      db,
      { ...args.data, timeZone: env.ACCOUNTING_TIMEZONE, chart: env.chartOfAccounts },
      progress,
    )) {
      if (!out.write(chunk)) await once(out, "drain");
      if (tty && Date.now() - lastDraw > 250) {
        lastDraw = Date.now();
        draw();
      }
    }
    if (out !== process.stdout) {
      out.end();
      await once(out, "finish");
    }
  } catch (error) {
    // Never leave a file that looks whole.
    if (values.out && out !== process.stdout) {
      out.destroy();
      if (statSync(values.out, { throwIfNoEntry: false })?.isFile()) rmSync(values.out, { force: true });
    }
    throw error;
  } finally {
    await closeAppDb();
  }
  if (tty) draw(true);
  const seconds = (Date.now() - started) / 1000;
  const usage = process.resourceUsage();
  const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime - cpuAtStart) / 1e6;
  const peakMb = Math.round(usage.maxRSS / 1024);
  console.error(
    `exported ${progress.rows} rows (${progress.transactions} transactions) in ${seconds.toFixed(1)} s: ` +
      `${Math.round(progress.rows / Math.max(seconds, 0.001))} rows/s, peak RSS ${peakMb} MB${values.out ? `, to ${values.out}` : ""}`,
  );
  // Where the time went, apart from what other processes took of the machine: waiting for pages
  // (the database's work and the transfer), and this process's own CPU (formatting, CSV, writing).
  console.error(
    `  the database took ${(progress.databaseMs / 1000).toFixed(1)} s; this process's CPU ${cpuSeconds.toFixed(1)} s ` +
      `(${Math.round(progress.rows / Math.max(cpuSeconds, 0.001))} rows per CPU-second)`,
  );
  let balanced = true;
  for (const [currency, { debit, credit }] of [...progress.totals].sort()) {
    balanced &&= debit === credit;
    console.error(
      `  ${currency.toUpperCase()}: debits ${toDecimalString(debit, currency)}, credits ${toDecimalString(credit, currency)}${debit === credit ? "" : "  NOT BALANCED"}`,
    );
  }
  return balanced ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error instanceof EnvError ? error.message : error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
