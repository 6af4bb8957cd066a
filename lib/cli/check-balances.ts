// `npm run ledger:check-balances [-- --sample=N]`: recompute every kept balance (or N random ones)
// from its entries and compare. Read-only. Exits 1 on any difference (and alerts, as the hourly check does).
import { parseArgs } from "node:util";
import { closeAppDb, getDb } from "../../db/client";
import { loadEnv } from "../env";
import { checkKeptBalances } from "../ledger/invariants";
import { unbalancedTransactions } from "../ledger";

const { values } = parseArgs({ options: { sample: { type: "string" } } });
const sample = values.sample === undefined ? undefined : Number(values.sample);
if (sample !== undefined && (!Number.isInteger(sample) || sample < 1)) throw new Error("--sample must be a positive whole number");
loadEnv();
const db = await getDb();
try {
  const started = Date.now();
  const { checked, drifts } = await checkKeptBalances(db, { sample });
  const unbalanced = sample === undefined ? await unbalancedTransactions(db) : [];
  for (const d of drifts.slice(0, 50)) console.log(`drift: account ${d.accountId} kept ${d.kept}, entries sum to ${d.fromEntries}`);
  for (const u of unbalanced.slice(0, 50)) console.log(`unbalanced: transaction ${u.transactionId} sums to ${u.sum} ${u.currency}`);
  console.log(
    `${checked} balances checked in ${((Date.now() - started) / 1000).toFixed(1)} s: ${drifts.length} differ from their entries` +
      (sample === undefined ? `; ${unbalanced.length} unbalanced transactions` : ""),
  );
  process.exitCode = drifts.length + unbalanced.length > 0 ? 1 : 0;
} finally {
  await closeAppDb();
}
