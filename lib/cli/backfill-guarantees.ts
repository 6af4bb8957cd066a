// `npm run placements:backfill-guarantees [-- --confirm] [--batch=500]`: fill placements.guarantee_expires_at
// (start_date + guarantee_days, at 00:00 in PAYOUT_TIMEZONE) where it is null. Dry run unless --confirm.
import { connectDatabase } from "../../db/client";
import { getEnv } from "../env";
import { backfillGuarantees } from "../placements/backfill-guarantees";

const args = process.argv.slice(2);
const confirm = args.includes("--confirm");
const batchArg = args.find((a) => a.startsWith("--batch="));
const batchSize = batchArg ? Number(batchArg.split("=")[1]) : 500;
if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error("--batch must be a positive whole number");

const env = getEnv();
const handle = await connectDatabase(env, { max: 2 });
try {
  const started = Date.now();
  const result = await backfillGuarantees(handle.db, {
    timeZone: env.PAYOUT_TIMEZONE,
    confirm,
    batchSize,
    onBatch: (done, total) =>
      console.log(`progress: ${done}/${total} placements (${((Date.now() - started) / 1000).toFixed(1)} s)`),
  });
  if (!confirm) {
    for (const r of result.rows.slice(0, 50)) {
      console.log(`would set ${r.id}: ${r.startDate} + ${r.guaranteeDays} d -> ${r.guaranteeExpiresAt}`);
    }
    if (result.rows.length > 50) console.log(`... and ${result.rows.length - 50} more`);
    console.log(
      `dry run: ${result.total} placements would change (time zone ${env.PAYOUT_TIMEZONE}); --confirm to write`,
    );
  } else {
    console.log(`updated ${result.changed} of ${result.total} placements (time zone ${env.PAYOUT_TIMEZONE})`);
  }
} finally {
  await handle.close();
}
