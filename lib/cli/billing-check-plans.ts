// `npm run billing:check-plans`: every price the configured plan map (BILLING_PLANS or
// BILLING_PLANS_FILE) names exists at Stripe (the simulator locally: npm start must be running),
// is active, recurring on the plan's interval in its currency, and the base licensed, the metered
// ones on the meter they say. Reads only. Exits 1 when anything is wrong.
import { checkPlans } from "../billing/plans";
import { EnvError, loadEnv } from "../env";
import { getStripeGateway } from "../stripe/client";

async function main(): Promise<number> {
  const env = loadEnv();
  if (Object.keys(env.billingPlans).length === 0) {
    console.error("no plans configured: set BILLING_PLANS or BILLING_PLANS_FILE (docs/BILLING.md)");
    return 1;
  }
  if (env.stripeMode === "simulator")
    process.env.STRIPE_API_BASE_URL ??= `http://127.0.0.1:${env.STRIPE_SIMULATOR_PORT}`;
  console.log(`plans from ${env.billingPlansSource}; Stripe: ${env.stripeMode}`);
  const checks = await checkPlans(getStripeGateway(), env.billingPlans);
  for (const c of checks)
    console.log(
      `${c.ok ? "ok  " : "FAIL"} ${c.plan.padEnd(14)} ${c.role.padEnd(22)} ${c.price}${c.problem ? `: ${c.problem}` : ""}`,
    );
  const failed = checks.filter((c) => !c.ok).length;
  console.log(
    failed === 0 ? `all ${checks.length} prices check out` : `${failed} of ${checks.length} prices are wrong`,
  );
  return failed === 0 ? 0 : 1;
}

main()
  .then((code) => process.exit(code))
  .catch((error) => {
    console.error(error instanceof EnvError ? error.message : (error as Error).message);
    process.exit(1);
  });
