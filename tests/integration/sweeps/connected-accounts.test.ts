import type Stripe from "stripe";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, connectedAccounts, payees } from "@/db/schema";
import { systemActor } from "@/lib/actor";
import {
  accountStateFromStripe,
  applyConnectedAccountState,
  createConnectedAccountForPayee,
} from "@/lib/accounts";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { admin } from "./helpers";

// lib/accounts: the connected_accounts row is audited when created, and account state ordering.
// (Filed here because this task owns tests/integration/sweeps; it belongs with an accounts suite.)

let t: TestDb;
let stripe: TestStripe;
beforeAll(async () => {
  [t, stripe] = await Promise.all([createTestDb(), startTestStripe({ maxRetries: 0 })]);
});
afterAll(async () => {
  await stripe?.close();
  await t?.close();
});

const newPayee = async (name: string) =>
  (
    await t.db
      .insert(payees)
      .values({ displayName: name, email: `${name}@example.com` })
      .returning()
  )[0]!;

const noGateway = () => ({
  setManualPayoutSchedule: async () => {
    throw new Error("no Stripe call expected");
  },
});

describe("connected accounts", () => {
  it("creating the Express account writes one audit row with the row, by the given actor", async () => {
    const payee = await newPayee("audited");
    const account = await createConnectedAccountForPayee(t.db, stripe.gateway, payee.id, admin);
    await createConnectedAccountForPayee(t.db, stripe.gateway, payee.id, admin);
    const audits = await t.db.select().from(auditLog).where(eq(auditLog.entityId, account.stripeAccountId));
    expect(audits.map((a) => a.action)).toEqual(["connected_account.created"]);
    expect(audits[0]).toMatchObject({ actorType: "user", actorId: admin.id });
    expect(audits[0]!.after).toMatchObject({
      id: account.id,
      payeeId: payee.id,
      stripeAccountId: account.stripeAccountId,
    });
  });

  it("state: strictly older is dropped, the same second is applied (one-second resolution)", async () => {
    const payee = await newPayee("ordered");
    const account = await createConnectedAccountForPayee(t.db, stripe.gateway, payee.id);
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    const apply = (fields: Record<string, unknown>, stateAt: Date) =>
      applyConnectedAccountState(
        t.db,
        accountStateFromStripe(
          { id: account.stripeAccountId, ...fields } as unknown as Stripe.Account,
          stateAt,
        ),
        {
          actor: systemActor("test"),
          idempotencyKey: `test:${stateAt.getTime()}`,
          gateway: noGateway,
        },
      );
    expect(await apply({ details_submitted: true }, at)).toMatchObject({ outcome: "updated" });
    expect(await apply({ details_submitted: true, payouts_enabled: true }, at)).toMatchObject({
      outcome: "updated",
    });
    expect(await apply({ details_submitted: false }, new Date(at.getTime() - 1000))).toMatchObject({
      outcome: "stale",
    });
    const [row] = await t.db.select().from(connectedAccounts).where(eq(connectedAccounts.id, account.id));
    expect(row).toMatchObject({ detailsSubmitted: true, payoutsEnabled: true });
    expect(row!.stripeStateAt!.getTime()).toBe(at.getTime());
  });
});
