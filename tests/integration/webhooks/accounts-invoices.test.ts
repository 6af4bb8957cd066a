import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../db/client";
import { connectedAccounts, payees, placementInvoices, placements } from "../../../db/schema";
import { createConnectedAccountForPayee, createOnboardingLink } from "../../../lib/accounts";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { buildEvent } from "../../support/stripe-events";
import { accountUpdated, createPayeeWithAccount, deliver, eventRow } from "./helpers";

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

const accountRow = async (acct: string) =>
  (await t.db.select().from(connectedAccounts).where(eq(connectedAccounts.stripeAccountId, acct)))[0]!;

describe("account.updated", () => {
  it("stores capabilities and requirements, and an older event arriving later changes nothing", async () => {
    const acct = "acct_state_1";
    await createPayeeWithAccount(t.db, acct);
    const now = Math.floor(Date.now() / 1000);
    const newer = accountUpdated(
      acct,
      {
        charges_enabled: true,
        payouts_enabled: true,
        details_submitted: true,
        requirements: { currently_due: [], disabled_reason: null },
      },
      { created: now },
    );
    const older = accountUpdated(
      acct,
      {
        charges_enabled: false,
        payouts_enabled: false,
        requirements: { currently_due: ["external_account"], disabled_reason: "requirements.past_due" },
      },
      { created: now - 60 },
    );
    expect(await deliver(t.db, newer)).toMatchObject({ status: "processed" });
    expect(await deliver(t.db, older)).toMatchObject({ status: "processed" });
    const row = await accountRow(acct);
    expect(row).toMatchObject({
      chargesEnabled: true,
      payoutsEnabled: true,
      detailsSubmitted: true,
      disabledReason: null,
    });
    expect(row.requirementsCurrentlyDue).toEqual([]);
    expect(row.stripeStateAt!.getTime()).toBe(now * 1000);
  });

  it("puts a non-manual payout schedule back to manual with a key from the event id, and alerts", async () => {
    const [payee] = await t.db
      .insert(payees)
      .values({ displayName: "Sched", email: "sched@example.com" })
      .returning();
    const account = await createConnectedAccountForPayee(t.db, stripe.gateway, payee!.id);
    const event = accountUpdated(account.stripeAccountId, {
      settings: { payouts: { schedule: { interval: "daily", delay_days: 2 } } },
    });
    const since = stripe.simulator.requests().at(-1)?.seq ?? 0;
    expect(await deliver(t.db, event, { gateway: () => stripe.gateway })).toMatchObject({
      status: "processed",
    });
    const calls = stripe.simulator
      .requests(since)
      .filter((r) => r.method === "POST" && r.path.startsWith("/v1/accounts/"));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.idempotencyKey).toContain(event.id);
    const remote = await stripe.gateway.retrieveAccount(account.stripeAccountId);
    expect(remote.settings?.payouts?.schedule?.interval).toBe("manual");
    const alerts = await queryRows(
      t.db,
      sql`select * from outbox_events where type = 'alert.payout_schedule_reset'`,
    );
    expect(alerts).toHaveLength(1);
    const audits = await queryRows<{ actor_type: string; actor_id: string }>(
      t.db,
      sql`select actor_type, actor_id from audit_log where action = 'connected_account.payout_schedule_reset'`,
    );
    expect(audits[0]).toEqual({ actor_type: "webhook", actor_id: event.id });
  });

  it("onboarding: one Express account per payee, and an onboarding link", async () => {
    const [payee] = await t.db
      .insert(payees)
      .values({ displayName: "Onb", email: "onb@example.com" })
      .returning();
    const first = await createConnectedAccountForPayee(t.db, stripe.gateway, payee!.id);
    const again = await createConnectedAccountForPayee(t.db, stripe.gateway, payee!.id);
    expect(again.id).toBe(first.id);
    expect(first.payoutScheduleInterval).toBe("manual");
    const link = await createOnboardingLink(t.db, stripe.gateway, payee!.id, {
      returnUrl: "http://localhost:3000/onboarding/done",
      refreshUrl: "http://localhost:3000/onboarding/refresh",
    });
    expect(link.url).toMatch(/^https?:\/\//);
  });
});

describe("invoice.*", () => {
  let stripeInvoiceId: string;
  beforeAll(async () => {
    const { payeeId } = await createPayeeWithAccount(t.db, "acct_invoice_owner");
    const [placement] = await t.db
      .insert(placements)
      .values({
        payeeId,
        clientStripeCustomerId: "cus_client",
        feeCents: 100_000,
        payeeShareCents: 50_000,
        currency: "usd",
        startDate: "2026-11-01",
        guaranteeDays: 90,
      })
      .returning();
    stripeInvoiceId = "in_placement_1";
    await t.db.insert(placementInvoices).values({
      placementId: placement!.id,
      amountCents: 100_000,
      currency: "usd",
      status: "draft",
      idempotencyKey: `placement-invoice:${placement!.id}`,
      stripeInvoiceId,
    });
  });
  const invoiceRow = async () =>
    (
      await t.db
        .select()
        .from(placementInvoices)
        .where(eq(placementInvoices.stripeInvoiceId, stripeInvoiceId))
    )[0]!;
  const invoiceEvent = (type: string, created: number) =>
    buildEvent(
      type,
      "invoice",
      { id: stripeInvoiceId, status: type === "invoice.paid" ? "paid" : "open" },
      { created },
    );

  it("finalized opens it, paid pays it, and a late finalized or payment_failed does not undo paid", async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await deliver(t.db, invoiceEvent("invoice.finalized", now - 100))).toMatchObject({
      status: "processed",
    });
    expect(await invoiceRow()).toMatchObject({ status: "open" });
    expect((await invoiceRow()).finalizedAt).not.toBeNull();
    await deliver(t.db, invoiceEvent("invoice.paid", now - 10));
    await deliver(t.db, invoiceEvent("invoice.payment_failed", now - 50));
    await deliver(t.db, invoiceEvent("invoice.finalized", now - 10)); // same second as paid: paid wins
    const row = await invoiceRow();
    expect(row).toMatchObject({ status: "paid" });
    expect(row.paidAt!.getTime()).toBe((now - 10) * 1000);
  });

  it("voided voids it", async () => {
    await deliver(t.db, invoiceEvent("invoice.voided", Math.floor(Date.now() / 1000) + 5));
    expect(await invoiceRow()).toMatchObject({ status: "void" });
    expect((await invoiceRow()).voidedAt).not.toBeNull();
  });

  it("an invoice Payrun does not know leaves the event pending", async () => {
    const event = buildEvent("invoice.paid", "invoice", { id: "in_someone_else" });
    expect(await deliver(t.db, event)).toMatchObject({ status: "pending" });
    expect(await eventRow(t.db, event.id)).toMatchObject({ status: "pending" });
  });
});
