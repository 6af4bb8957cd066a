import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../db/client";
import { payees } from "../../../db/schema";
import { systemActor } from "../../../lib/actor";
import { ensureConnectedAccount } from "../../../lib/accounts";
import { getEnv } from "../../../lib/env";
import { postLedgerTransaction } from "../../../lib/ledger";
import { previewPayeePayout } from "../../../lib/payouts/queries";
import { useAppEnv } from "../../integration/payouts/helpers";
import { deliver } from "../../integration/webhooks/helpers";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";

// Two payees finish onboarding with the same bank account at the same moment: their account.updated
// events are applied at once on two connections. Without the per-fingerprint lock each transaction
// would miss the other's uncommitted bank account and no match would be made; with it, exactly one
// match, exactly one alert, both payees held. Only a real server runs the two at once.

let t: TestDb;
let ts: TestStripe;
const actor = systemActor("bank-race");

beforeAll(async () => {
  [t, ts] = await Promise.all([createTestDb(), startTestStripe()]);
  useAppEnv(t.db, ts.simulator.url);
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

async function payeeAccount(label: string) {
  const [row] = await t.db
    .insert(payees)
    .values({ displayName: label, email: `${label}-${randomUUID()}@example.com` })
    .returning();
  const { account } = await ensureConnectedAccount(t.db, ts.gateway, row!.id, actor);
  await postLedgerTransaction(t.db, {
    idempotencyKey: `earning:${row!.id}`,
    kind: "earning",
    description: "test earning",
    currency: "usd",
    payeeId: row!.id,
    effectiveAt: new Date(Date.now() - 86_400_000),
    lines: [
      { kind: "stripe_clearing", amount: -5000 },
      { payeeId: row!.id, kind: "available", location: "connected", amount: 5000 },
    ],
  });
  return { payeeId: row!.id, account: account.stripeAccountId };
}
async function onboardingEvent(account: string): Promise<Stripe.Event> {
  const page = await ts.stripe.events.list(
    { limit: 10, type: "account.updated" },
    { stripeAccount: account },
  );
  return page.data[0]!;
}

describe("two payees onboarding with the same bank at once, on real Postgres", () => {
  it.each([1, 2, 3, 4, 5])("round %i: exactly one match, one alert, both held", async () => {
    const fingerprint = `race${randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const a = await payeeAccount("Race A");
    const b = await payeeAccount("Race B");
    ts.simulator.onboardAccount(a.account, { bankFingerprint: fingerprint });
    ts.simulator.onboardAccount(b.account, { bankFingerprint: fingerprint });
    const events = await Promise.all([onboardingEvent(a.account), onboardingEvent(b.account)]);
    const pools = [t.connect(2), t.connect(2)];
    const results = await Promise.all(events.map((event, i) => deliver(pools[i]!.db, event)));
    await Promise.all(pools.map((p) => p.close()));
    expect(results.map((r) => r.status)).toEqual(["processed", "processed"]);

    const matches = await queryRows<{ id: string; status: string }>(
      t.db,
      sql`select id, status from bank_account_matches where fingerprint = ${fingerprint}`,
    );
    expect(matches).toEqual([{ id: expect.any(String), status: "open" }]);
    const alerts = await queryRows(
      t.db,
      sql`select 1 from outbox_events where type = 'alert.duplicate_bank_account' and aggregate_id = ${matches[0]!.id}`,
    );
    expect(alerts).toHaveLength(1);
    for (const p of [a, b]) {
      expect((await previewPayeePayout(t.db, getEnv(), p.payeeId)).payouts[0]?.reason).toBe(
        "duplicate_bank_account",
      );
    }
  });
});
