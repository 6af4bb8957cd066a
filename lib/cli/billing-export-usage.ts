// `npm run billing:export-usage -- --start=YYYY-MM-DD --end=YYYY-MM-DD [--confirm] [--retry-failed] [--concurrency=256]`
//
// Usage recorded in [start, end) (UTC dates) to Stripe's billing meters (lib/billing/usage-export.ts).
// A DRY RUN unless both LIVE=true is in the environment and --confirm is given: counts and quantities
// per client and meter, and the first meter events as they would be sent; nothing written anywhere.
// A live export prints its batchId first and last, records the batch, shows progress on a terminal,
// and can be run again after any failure or interruption: nothing is sent twice (docs/BILLING.md).
import os from "node:os";
import { parseArgs } from "node:util";
import { connectDatabase } from "../../db/client";
import { systemActor } from "../actor";
import { exportUsage } from "../billing/usage-export";
import { EnvError, getEnv } from "../env";
import { DomainError } from "../errors";
import { getStripeGateway } from "../stripe/client";

const { values: args } = parseArgs({
  options: {
    start: { type: "string" },
    end: { type: "string" },
    confirm: { type: "boolean", default: false },
    "retry-failed": { type: "boolean", default: false },
    concurrency: { type: "string", default: "256" },
  },
});

async function main(): Promise<number> {
  if (!args.start || !args.end) {
    console.error(
      "usage: npm run billing:export-usage -- --start=YYYY-MM-DD --end=YYYY-MM-DD [--confirm]  (and LIVE=true to send)",
    );
    return 2;
  }
  const concurrency = Number(args.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    console.error("--concurrency must be a positive whole number");
    return 2;
  }
  const env = getEnv();
  if (env.stripeMode === "simulator")
    process.env.STRIPE_API_BASE_URL ??= `http://127.0.0.1:${env.STRIPE_SIMULATOR_PORT}`;
  const live = process.env.LIVE === "true";
  const handle = await connectDatabase(env, { max: 4 });
  const tty = process.stdout.isTTY;
  const started = Date.now();
  let shownBatch: string | undefined;
  const abort = new AbortController();
  process.once("SIGINT", () => {
    console.error(
      "\ninterrupted: finishing the meter events in flight, then stopping (run the same command again to go on)",
    );
    abort.abort();
  });
  try {
    const result = await exportUsage(handle.db, getStripeGateway(), {
      start: args.start,
      end: args.end,
      live,
      confirm: args.confirm,
      retryFailed: args["retry-failed"],
      concurrency,
      actor: systemActor(`cli:${os.userInfo().username}`),
      signal: abort.signal,
      onBatch: (batchId) => {
        shownBatch = batchId;
        console.log(`batchId ${batchId}`);
      },
      onProgress: (p) => {
        const line = `${p.done}/${p.total} records: ${p.sent} sent, ${p.alreadyAtStripe} already at Stripe, ${p.failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`;
        if (tty) process.stdout.write(`\r${line}`);
      },
    });
    if (tty && shownBatch) process.stdout.write("\n");
    for (const s of result.summary)
      console.log(
        `${s.stripeCustomerId.padEnd(24)} ${s.meter.padEnd(20)} ${String(s.records).padStart(8)} records  quantity ${s.quantity}`,
      );
    if (result.mode === "dry_run") {
      for (const e of result.wouldSend)
        console.log(
          `would send: POST /v1/billing/meter_events event_name=${e.eventName} payload[stripe_customer_id]=${e.customer} payload[value]=${e.value} identifier=${e.identifier} timestamp=${e.timestamp}`,
        );
      console.log(
        `DRY RUN (missing ${result.missingGates.join(" and ")}): ${result.totals.records} records, quantity ${result.totals.quantity}, would be sent for ${result.range.start}..${result.range.end} (end exclusive); ` +
          `${result.alreadyExported} already exported, ${result.previouslyFailed} failed earlier (--retry-failed). Nothing was sent or marked.`,
      );
      console.log(
        `To send: LIVE=true npm run billing:export-usage -- --start=${result.range.start} --end=${result.range.end} --confirm`,
      );
      return 0;
    }
    console.log(
      `${result.status}: ${result.total} records; ${result.sent} sent, ${result.alreadyAtStripe} already at Stripe, ${result.failed} failed` +
        (result.error ? `; stopped: ${result.error}` : ""),
    );
    console.log(`batchId ${result.batchId}`);
    return result.status === "completed" ? 0 : 1;
  } finally {
    await handle.close();
  }
}

main()
  .then((code) => process.exit(code))
  .catch((error) => {
    console.error(
      error instanceof EnvError || error instanceof DomainError ? error.message : (error as Error).stack,
    );
    process.exit(1);
  });
