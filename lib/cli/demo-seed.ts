// `npm run demo:seed`: the demo data (lib/demo/seed.ts) on an empty database, as `npm start` makes it
// on its first run. A database that already has payees is left alone (beside a running `npm start`,
// which seeded its own). The demo's money goes through the local Stripe simulator: this starts one on
// STRIPE_SIMULATOR_PORT with `npm start`'s state file (or STRIPE_SIMULATOR_STATE_PATH), so the
// accounts are there when it runs next.
import { sql } from "drizzle-orm";
import { closeAppDb, getDb, queryRows } from "../../db/client";
import { seedDemoIfEmpty } from "../demo/seed";
import { EnvError, loadEnv } from "../env";

async function main(): Promise<number> {
  if (process.env.STRIPE_SECRET_KEY) {
    console.error("demo:seed makes demo charges and payouts: it runs only on the local simulator (unset STRIPE_SECRET_KEY)");
    return 2;
  }
  const port = Number(process.env.STRIPE_SIMULATOR_PORT ?? 12111);
  process.env.STRIPE_API_BASE_URL ??= `http://127.0.0.1:${port}`;
  const env = loadEnv();
  const [row] = await queryRows<{ n: number }>(await getDb(), sql`select count(*)::int as n from payees`);
  if ((row?.n ?? 0) > 0) {
    console.info(`the database already has ${row?.n} payee(s): nothing to seed (demo data goes only into an empty database)`);
    await closeAppDb();
    return 0;
  }
  const { startStripeSimulator } = await import("../stripe/simulator/index");
  const simulator = await startStripeSimulator({
    port,
    platformBalanceCents: env.STRIPE_SIMULATOR_PLATFORM_BALANCE_CENTS,
    statePath: process.env.STRIPE_SIMULATOR_STATE_PATH || ".data/stripe-simulator.json",
  }).catch((error: Error) => {
    throw new Error(`could not start the Stripe simulator on port ${port} (${error.message}); is npm start running? It seeds its own database`);
  });
  try {
    await seedDemoIfEmpty(env, { simulator });
    return 0;
  } finally {
    await simulator.close();
  }
}

main()
  .then((code) => process.exit(code))
  .catch(async (error) => {
    console.error(error instanceof EnvError ? error.message : (error as Error).message);
    await closeAppDb().catch(() => undefined);
    process.exit(1);
  });
