// npm run bench:accounting -- [--entries 1000000] [--payees 1000] [--keep] [--database-url postgres://...]
//
// The journal export at scale, on a scratch database of the real Postgres. Setup (timed apart): N
// ledger entries in one month through the ledger's own set-based poster (postLedgerSet, so every
// guard and running balance is as in production): destination-charge earnings (three entries, two
// Stripe references) and Stripe processing fees (two entries, one reference), alternately. Then
// `npm run accounting:export` runs as a child process, writing the month's CSV to a file: it prints
// its rows/s and its own peak RSS (targets: at least 100,000 rows/s, under 300 MB). Last, the
// trial balance at the month's close is timed. docs/ACCOUNTING.md has the figures.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { connectPostgres, migrateDb } from "../../db/client";
import { defaultChartOfAccounts } from "../chart-of-accounts";
import { trialBalance } from "../accounting/trial-balance";
import { postLedgerSet } from "../ledger";

const { values: args } = parseArgs({
  options: {
    entries: { type: "string", default: "1000000" },
    payees: { type: "string", default: "1000" },
    keep: { type: "boolean", default: false },
    "database-url": {
      type: "string",
      default: process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    },
  },
});
const ENTRIES = Number(args.entries);
const PAYEES = Number(args.payees);
// Pairs of (earning: 3 entries, fee: 2 entries): 2.5 entries per transaction.
const TRANSACTIONS = Math.ceil(ENTRIES / 2.5);
const BATCH = 50_000;
const MONTH = { from: "2026-01-01", to: "2026-01-31" };
const tty = process.stdout.isTTY;
const line = (label: string, value: string) => console.log(`${label.padEnd(30)} ${value}`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const adminUrl = args["database-url"];
const dbName = `payrun_bench_${randomBytes(4).toString("hex")}`;
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${dbName}`);
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;
const handle = connectPostgres(url.toString(), { max: 4 });
const db = handle.db;
const outFile = path.join(os.tmpdir(), `${dbName}.csv`);

try {
  await migrateDb(handle);
  const seedStart = Date.now();
  await db.execute(sql`
    insert into payees (id, display_name, email)
    select md5('bench-payee:' || n)::uuid, 'Bench payee ' || n, 'bench' || n || '@example.com'
    from generate_series(0, ${PAYEES - 1}) n`);
  const spanSeconds = 31 * 86_400 - 1;
  for (let lo = 0; lo < TRANSACTIONS; lo += BATCH) {
    const hi = Math.min(TRANSACTIONS, lo + BATCH) - 1;
    const series = sql`generate_series(${lo}::int, ${hi}::int) i`;
    const amount = sql`(1000 + (i / 2) % 50000)::bigint`;
    const fee = sql`(((1000 + (i / 2) % 50000) / 10))::bigint`;
    const stripeFee = sql`(30 + (i / 2) % 300)::bigint`;
    const payee = sql`md5('bench-payee:' || ((i / 2) % ${PAYEES}))::uuid`;
    const txId = sql`md5('bench-tx:' || i)::uuid`;
    await db.transaction(async (tx) => {
      await postLedgerSet(tx, {
        transactions: sql`
          select ${txId} as id, 'bench:' || i as k,
                 case when i % 2 = 0 then 'earning' else 'stripe_processing_fee' end as kind,
                 case when i % 2 = 0 then 'Destination charge ch_bench' || (i / 2) else 'Stripe''s processing fee on ch_bench' || (i / 2) end as description,
                 case when i % 2 = 0 then ${payee} end as payee_id,
                 case when i % 2 = 0 then 'charge' else 'balance_transaction' end as source_type,
                 case when i % 2 = 0 then 'ch_bench' || (i / 2) else 'txn_bench' || (i / 2) end as source_id,
                 '{}'::jsonb as metadata,
                 timestamptz '2026-01-01T00:00:00Z' + make_interval(secs => (i::float8 * ${spanSeconds}) / ${TRANSACTIONS}) as effective_at,
                 false as allow_overdraft
          from ${series}`,
        lines: sql`
          select ${txId} as transaction_id, null::uuid as payee_id, 'stripe_clearing' as kind, 'platform' as location, 'usd' as currency, -${amount} as amount
          from ${series} where i % 2 = 0
          union all
          select ${txId}, ${payee}, 'available', 'connected', 'usd', ${amount} - ${fee} from ${series} where i % 2 = 0
          union all
          select ${txId}, null::uuid, 'fees', 'platform', 'usd', ${fee} from ${series} where i % 2 = 0
          union all
          select ${txId}, null::uuid, 'stripe_fees', 'platform', 'usd', -${stripeFee} from ${series} where i % 2 = 1
          union all
          select ${txId}, null::uuid, 'stripe_clearing', 'platform', 'usd', ${stripeFee} from ${series} where i % 2 = 1`,
        stripeRefs: sql`
          select ${txId} as transaction_id, 'platform' as account, 'ch_bench' || (i / 2) as object, ${fee} as amount, 'usd' as currency
          from ${series} where i % 2 = 0
          union all
          select ${txId}, 'acct_bench' || ((i / 2) % ${PAYEES}), 'ch_bench' || (i / 2), ${amount} - ${fee}, 'usd' from ${series} where i % 2 = 0
          union all
          select ${txId}, 'platform', 'ch_bench' || (i / 2), -${stripeFee}, 'usd' from ${series} where i % 2 = 1`,
      });
    });
    if (tty) process.stdout.write(`\rseeding: ${hi + 1} of ${TRANSACTIONS} transactions\x1b[K`);
  }
  if (tty) process.stdout.write("\r\x1b[K");
  await db.execute(sql`analyze`);
  const [{ n: entries } = { n: 0 }] = (await db.execute(
    sql`select count(*)::int as n from ledger_entries`,
  )) as unknown as { n: number }[];
  line(
    "ledger entries",
    `${entries} (${TRANSACTIONS} transactions, ${PAYEES} payees), seeded in ${secs(Date.now() - seedStart)}`,
  );

  // The export, as finance runs it: its own process, so its peak RSS is the export's alone.
  const exportStart = Date.now();
  const child = spawn(
    path.join("node_modules", ".bin", "tsx"),
    ["lib/cli/accounting-export.ts", `--from=${MONTH.from}`, `--to=${MONTH.to}`, `--out=${outFile}`],
    {
      env: { ...process.env, DATABASE_URL: url.toString(), NODE_ENV: "production", PAYRUN_LOCAL: "1" },
      stdio: ["ignore", "inherit", "pipe"],
    },
  );
  let report = "";
  child.stderr.on("data", (chunk: Buffer) => {
    report += chunk.toString();
  });
  const code: number = await new Promise((resolve) => child.on("close", (c) => resolve(c ?? 1)));
  const exportMs = Date.now() - exportStart;
  for (const l of report.trim().split("\n")) line("export", l.trim());
  if (code !== 0) throw new Error(`accounting:export exited ${code}`);
  const rate = /(\d+) rows\/s/.exec(report)?.[1];
  const rss = /peak RSS (\d+) MB/.exec(report)?.[1];
  line("file", `${(statSync(outFile).size / 1e6).toFixed(0)} MB, ${secs(exportMs)} with the process's start`);
  line("rows/s (target >= 100,000)", `${rate}`);
  line("peak RSS (target < 300 MB)", `${rss} MB`);

  const tbStart = Date.now();
  const balance = await trialBalance(db, { at: MONTH.to, timeZone: "UTC", chart: defaultChartOfAccounts() });
  const usd = balance.currencies.find((c) => c.currency === "USD");
  line(
    "trial balance",
    `${secs(Date.now() - tbStart)}: ${usd?.lines.length} GL lines, debits ${usd?.totalDebit} = credits ${usd?.totalCredit}: ${usd?.balanced}`,
  );
} finally {
  rmSync(outFile, { force: true });
  await handle.close();
  if (!args.keep) await admin.unsafe(`drop database if exists ${dbName} with (force)`);
  else console.log(`kept database ${dbName}`);
  await admin.end();
}
