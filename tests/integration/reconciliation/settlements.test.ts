import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as runRoute } from "@/app/internal/payouts/run/route";
import { queryRows } from "@/db/client";
import { placementInvoices } from "@/db/schema";
import { loadEnv } from "@/lib/env";
import { payeeBalances } from "@/lib/ledger";
import { latestCycle } from "@/lib/payouts/cycle";
import { completeExpiredGuarantees } from "@/lib/placements/complete-guarantees";
import { createPlacementInvoicesSweep } from "@/lib/placements/create-invoices";
import { finalizePlacementInvoicesSweep } from "@/lib/placements/finalize-invoices";
import { reconcileNow } from "@/lib/reconciliation/pass";
import { runSweep } from "@/lib/sweeps/run";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { internalRequest, payoutRows, routeCtx, seedPayee, useAppEnv } from "../payouts/helpers";
import { makeCustomer, makeExpiredPlacement, makePayee } from "../sweeps/helpers";

// Settlement a lost webhook would have brought: a payout paid at Stripe and a placement invoice paid
// by the client, their webhooks never delivered. A day after they were due, a reconciliation pass
// reads them back from Stripe and settles them as the webhook would have; a second pass changes
// nothing.

const env = loadEnv({ RECON_GRACE_SECONDS: "0" });
let t: TestDb;
let ts: TestStripe;

beforeAll(async () => {
  [t, ts] = await Promise.all([createTestDb(), startTestStripe()]);
  useAppEnv(t.db, ts.simulator.url);
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

const auditCount = async () =>
  Number((await queryRows<{ n: string }>(t.db, sql`select count(*) as n from audit_log`))[0]!.n);

describe("settlement backfill", () => {
  it("a payout paid and an invoice paid without their webhooks are settled from Stripe, once", async () => {
    const seeded = await seedPayee(t.db, ts, { platformCents: 3_000, name: "Paid late" });
    const res = await runRoute(
      internalRequest("POST", "/internal/payouts/run", {
        cycleDate: latestCycle(new Date(), "UTC").cycleDate,
      }),
      routeCtx(),
    );
    const runId = ((await res.json()) as { runId: string }).runId;
    const [payout] = await payoutRows(t.db, runId);
    ts.simulator.settlePayout(payout!.stripe_payout_id as string, "paid");
    // The payout was due two days ago: its payout.paid is lost.
    await t.db.execute(
      sql`update payouts set arrival_date = now() - interval '2 days' where id = ${payout!.id}`,
    );

    const payee = await makePayee(t.db);
    const placement = await makeExpiredPlacement(t.db, {
      payeeId: payee.id,
      customer: await makeCustomer(ts),
    });
    const now = new Date();
    await runSweep(t.db, completeExpiredGuarantees, { now });
    await runSweep(t.db, createPlacementInvoicesSweep(ts.gateway), { now });
    await runSweep(t.db, finalizePlacementInvoicesSweep(ts.gateway), { now });
    const [invoice] = await t.db
      .select()
      .from(placementInvoices)
      .where(eq(placementInvoices.placementId, placement.id));
    expect(invoice!.status).toBe("open");
    await ts.gateway.payInvoice(invoice!.stripeInvoiceId!, `late-pay-${invoice!.id}`);
    await t.db.execute(
      sql`update placement_invoices set finalized_at = now() - interval '2 days' where id = ${invoice!.id}`,
    );

    await reconcileNow(t.db, ts.gateway, env);
    const [settled] = await queryRows<{ status: string; paid_at: Date | null }>(
      t.db,
      sql`select status, paid_at from payouts where id = ${payout!.id}`,
    );
    expect(settled!.status).toBe("paid");
    expect(settled!.paid_at).not.toBeNull();
    expect((await payeeBalances(t.db, seeded.payeeId)).usd).toMatchObject({ in_transit: 0, paid: 3_000 });
    const [paidInvoice] = await t.db
      .select()
      .from(placementInvoices)
      .where(eq(placementInvoices.id, invoice!.id));
    expect(paidInvoice!.status).toBe("paid");
    expect(paidInvoice!.paidAt).not.toBeNull();

    const audits = await auditCount();
    await reconcileNow(t.db, ts.gateway, env);
    expect(await auditCount()).toBe(audits);
    const [again] = await queryRows<{ status: string; paid_at: Date }>(
      t.db,
      sql`select status, paid_at from payouts where id = ${payout!.id}`,
    );
    expect(again).toEqual(settled);
  });
});
