import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, outboxEvents, placementInvoices } from "@/db/schema";
import { completeExpiredGuarantees } from "@/lib/placements/complete-guarantees";
import { createPlacementInvoicesSweep } from "@/lib/placements/create-invoices";
import { cancelPlacement } from "@/lib/placements/crud";
import { finalizePlacementInvoicesSweep } from "@/lib/placements/finalize-invoices";
import { runSweep } from "@/lib/sweeps/run";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { admin, makeCustomer, makeExpiredPlacement, makePayee } from "../sweeps/helpers";

// A placement cancelled after its guarantee completed: its invoice must not reach (or stay with) the
// client, and a paid one raises an alert instead of being silently kept.

const MINUTE_MS = 60_000;
let t: TestDb;
let stripe: TestStripe;
let create: ReturnType<typeof createPlacementInvoicesSweep>;
let finalize: ReturnType<typeof finalizePlacementInvoicesSweep>;

beforeAll(async () => {
  [t, stripe] = await Promise.all([createTestDb(), startTestStripe({ maxRetries: 0 })]);
  create = createPlacementInvoicesSweep(stripe.gateway);
  finalize = finalizePlacementInvoicesSweep(stripe.gateway);
});
afterAll(async () => {
  await stripe?.close();
  await t?.close();
});

async function completedPlacement(name: string) {
  const customer = await makeCustomer(stripe, name);
  const payee = await makePayee(t.db, `${name} payee`);
  const placement = await makeExpiredPlacement(t.db, { payeeId: payee.id, customer });
  await runSweep(t.db, completeExpiredGuarantees);
  return placement;
}

const cancel = (id: string) =>
  cancelPlacement(t.db, { id, input: { status: "cancelled", reason: "client withdrew" }, actor: admin });

const rowOf = async (placementId: string) =>
  (await t.db.select().from(placementInvoices).where(eq(placementInvoices.placementId, placementId)))[0]!;

const invoicePosts = () =>
  stripe.simulator.requests().filter((r) => r.method === "POST" && r.path === "/v1/invoices").length;

const auditActions = async (entityId: string) =>
  (await t.db.select({ action: auditLog.action }).from(auditLog).where(eq(auditLog.entityId, entityId))).map(
    (a) => a.action,
  );

describe("cancelling a placement with an invoice on the way", () => {
  it("a `creating` row whose placement was cancelled is voided by the create sweep, with no Stripe call", async () => {
    const placement = await completedPlacement("Withdrawn Before Invoice");
    const now = new Date();
    stripe.simulator.setFaults({ endpoints: { "POST /v1/invoices": { errorCount: 1 } } });
    expect(await runSweep(t.db, create, { now })).toMatchObject({ failed: 1 });
    expect((await rowOf(placement.id)).status).toBe("creating");

    await cancel(placement.id);
    const posts = invoicePosts();
    const retry = new Date(now.getTime() + 20 * MINUTE_MS);
    expect(await runSweep(t.db, create, { now: retry })).toMatchObject({
      processed: 0,
      skipped: 1,
      failed: 0,
    });
    expect(invoicePosts()).toBe(posts);
    const row = await rowOf(placement.id);
    expect(row).toMatchObject({ status: "void", stripeInvoiceId: null });
    expect(row.voidedAt).not.toBeNull();
    expect(await auditActions(row.id)).toEqual(
      expect.arrayContaining(["placement_invoice.void_requested", "placement_invoice.voided"]),
    );
    expect((await runSweep(t.db, create, { now: retry })).processed).toBe(0);
  });

  it("a draft whose placement was cancelled is never finalized or sent", async () => {
    const placement = await completedPlacement("Withdrawn Draft");
    const now = new Date();
    expect((await runSweep(t.db, create, { now })).processed).toBe(1);
    const draft = await rowOf(placement.id);
    expect(draft.status).toBe("draft");

    await cancel(placement.id);
    expect(await runSweep(t.db, finalize, { now })).toMatchObject({ processed: 0, skipped: 1, failed: 0 });
    expect((await rowOf(placement.id)).status).toBe("void");
    expect((await stripe.gateway.retrieveInvoice(draft.stripeInvoiceId!)).status).toBe("draft");
    const finalized = stripe.simulator
      .requests()
      .filter((r) => r.method === "POST" && r.path === `/v1/invoices/${draft.stripeInvoiceId}/finalize`);
    expect(finalized).toHaveLength(0);
  });

  it("an open invoice is voided at Stripe by the finalize sweep, with a key from the row", async () => {
    const placement = await completedPlacement("Withdrawn After Sending");
    const now = new Date();
    await runSweep(t.db, create, { now });
    await runSweep(t.db, finalize, { now });
    const open = await rowOf(placement.id);
    expect(open.status).toBe("open");

    await cancel(placement.id);
    expect((await rowOf(placement.id)).voidRequestedAt).not.toBeNull();
    expect(await runSweep(t.db, finalize, { now })).toMatchObject({ processed: 1, failed: 0, remaining: 0 });
    const voided = await rowOf(placement.id);
    expect(voided.status).toBe("void");
    expect((await stripe.gateway.retrieveInvoice(open.stripeInvoiceId!)).status).toBe("void");
    const voidCalls = stripe.simulator
      .requests()
      .filter((r) => r.method === "POST" && r.path === `/v1/invoices/${open.stripeInvoiceId}/void`);
    expect(voidCalls.map((r) => r.idempotencyKey)).toEqual([`${open.idempotencyKey}:void`]);
    expect((await runSweep(t.db, finalize, { now })).processed).toBe(0);
  });

  it("an invoice the client already paid raises an ops alert in the cancel transaction", async () => {
    const placement = await completedPlacement("Withdrawn After Paying");
    const now = new Date();
    await runSweep(t.db, create, { now });
    await runSweep(t.db, finalize, { now });
    const open = await rowOf(placement.id);
    await stripe.gateway.payInvoice(open.stripeInvoiceId!, `test-pay-${open.id}`);
    // As the invoice.paid webhook leaves it.
    await t.db
      .update(placementInvoices)
      .set({ status: "paid", paidAt: now })
      .where(eq(placementInvoices.id, open.id));

    await cancel(placement.id);
    const alerts = await t.db
      .select()
      .from(outboxEvents)
      .where(
        and(
          eq(outboxEvents.aggregateId, open.id),
          eq(outboxEvents.type, "alert.cancelled_placement_invoice_paid"),
        ),
      );
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.payload).toMatchObject({
      placementId: placement.id,
      amountCents: 20_000,
      currency: "usd",
    });
    expect((await rowOf(placement.id)).status).toBe("paid");
  });
});
