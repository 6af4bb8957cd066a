import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { payees } from "../../../db/schema";
import { createConnectedAccountForPayee } from "../../../lib/accounts";
import { payeeBalances } from "../../../lib/ledger";
import { backfillStripeEvents } from "../../../lib/webhooks/backfill";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { handlerEnv } from "./helpers";

let t: TestDb;
let stripe: TestStripe;
beforeAll(async () => {
  t = await createTestDb();
  stripe = await startTestStripe({ maxRetries: 0 });
});
afterAll(async () => {
  await stripe.close();
  await t.close();
});

describe("events backfill", () => {
  it("applies events a webhook outage missed, once, through the same intake", async () => {
    const [payee] = await t.db
      .insert(payees)
      .values({ displayName: "Backfill", email: "bf@example.com" })
      .returning();
    const account = await createConnectedAccountForPayee(t.db, stripe.gateway, payee!.id);
    stripe.simulator.onboardAccount(account.stripeAccountId);
    await stripe.gateway.createDestinationCharge({
      amount: 10_000,
      currency: "usd",
      destination: account.stripeAccountId,
      applicationFeeAmount: 1_000,
      idempotencyKey: "backfill-charge-1",
    });
    const window = { since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 3_600_000) };
    const deps = { env: handlerEnv, gateway: () => stripe.gateway };
    const first = await backfillStripeEvents(t.db, stripe.gateway, { ...window, ...deps });
    expect(first.byStatus.failed).toBe(0);
    expect(first.byStatus.processed).toBeGreaterThanOrEqual(1);
    expect((await payeeBalances(t.db, payee!.id)).usd!.available).toBe(9_000);

    const second = await backfillStripeEvents(t.db, stripe.gateway, { ...window, ...deps });
    expect(second.byStatus.processed).toBe(0);
    expect(second.byStatus.duplicate).toBe(second.scanned - second.byStatus.pending);
    expect((await payeeBalances(t.db, payee!.id)).usd!.available).toBe(9_000);
  });

  it("refuses a window over 30 days", async () => {
    await expect(
      backfillStripeEvents(t.db, stripe.gateway, {
        since: new Date("2026-09-01T00:00:00Z"),
        until: new Date("2026-11-01T00:00:00Z"),
        env: handlerEnv,
        gateway: () => stripe.gateway,
      }),
    ).rejects.toThrow(/at most 30/);
  });
});
