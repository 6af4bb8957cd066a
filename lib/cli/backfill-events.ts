// npm run events:backfill -- --since 2026-11-01T00:00:00Z [--until 2026-11-02T00:00:00Z] [--platform-only]
// Reads Stripe's Events API for the window (at most 30 days) and feeds every event through the webhook
// intake, so events missed during an outage are stored and applied once.
import { parseArgs } from "node:util";
import { closeAppDb, getDb } from "../../db/client";
import { getEnv } from "../env";
import { getStripeGateway } from "../stripe/client";
import { backfillStripeEvents } from "../webhooks/backfill";
import { appWebhookDeps } from "../webhooks/deps";

function parseDate(name: string, value: string | undefined, fallback?: Date): Date {
  if (value === undefined && fallback) return fallback;
  const date = new Date(value ?? "");
  if (value === undefined || Number.isNaN(date.getTime())) {
    console.error(`--${name} must be an ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z`);
    process.exit(2);
  }
  return date;
}

async function main() {
  const { values } = parseArgs({
    options: {
      since: { type: "string" },
      until: { type: "string" },
      "platform-only": { type: "boolean", default: false },
    },
  });
  const since = parseDate("since", values.since);
  const until = parseDate("until", values.until, new Date());
  const env = getEnv();
  const db = await getDb();
  const gateway = getStripeGateway();
  try {
    const result = await backfillStripeEvents(db, gateway, {
      since,
      until,
      ...appWebhookDeps(env),
      includeConnected: !values["platform-only"],
    });
    console.info(
      JSON.stringify({ since: since.toISOString(), until: until.toISOString(), ...result }, null, 2),
    );
    if (result.byStatus.failed > 0) process.exitCode = 1;
  } finally {
    await closeAppDb();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
