import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { placementInvoices } from "@/db/schema";
import { createEscrowHold } from "@/lib/escrow/holds";
import { escrowReleasesSweep } from "@/lib/escrow/release-sweep";
import { platformBalances, unbalancedTransactions } from "@/lib/ledger";
import { payoutSchedulesSweep } from "@/lib/payout-schedules/process";
import { completeExpiredGuarantees } from "@/lib/placements/complete-guarantees";
import { createPlacementInvoicesSweep } from "@/lib/placements/create-invoices";
import { finalizePlacementInvoicesSweep } from "@/lib/placements/finalize-invoices";
import { runSweep } from "@/lib/sweeps/run";
import type { SweepDefinition, SweepResult } from "@/lib/sweeps/types";
import {
  admin,
  count,
  DAY_MS,
  makeCustomer,
  makeExpiredPlacement,
  makePayee,
} from "../../integration/sweeps/helpers";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";

// Two instances of each sweep at once, on two connection pools: the work is done once.
const N = 40;
let t: TestDb;
let stripe: TestStripe;
let poolA: { db: Db; close(): Promise<void> };
let poolB: { db: Db; close(): Promise<void> };

beforeAll(async () => {
  [t, stripe] = await Promise.all([createTestDb(), startTestStripe()]);
  poolA = t.connect(5);
  poolB = t.connect(5);
  const customer = await makeCustomer(stripe);
  for (let i = 0; i < N; i++) {
    const payee = await makePayee(t.db, `Racer ${i}`);
    await makeExpiredPlacement(t.db, { payeeId: payee.id, customer, feeCents: 10_000, shareCents: 8_000 });
  }
});
afterAll(async () => {
  await stripe?.close();
  await t?.close();
});

async function twice(sweep: SweepDefinition, now = new Date()): Promise<[SweepResult, SweepResult]> {
  // Small batches so the two instances interleave many claims.
  return Promise.all([
    runSweep(poolA.db, sweep, { now, batchSize: 5 }),
    runSweep(poolB.db, sweep, { now, batchSize: 5 }),
  ]);
}

const total = (results: SweepResult[]) => results.reduce((sum, r) => sum + r.processed, 0);

describe("two sweeps at once do the work once", () => {
  it("complete-expired-guarantees: each placement completes once, one outbox event each", async () => {
    const results = await twice(completeExpiredGuarantees);
    expect(total(results)).toBe(N);
    expect(
      await count(t.db, sql`select count(*) as n from placements where status = 'guarantee_completed'`),
    ).toBe(N);
    expect(
      await count(t.db, sql`select count(*) as n from outbox_events where type = 'placement.status_changed'`),
    ).toBe(N);
    expect(
      await count(
        t.db,
        sql`select count(*) as n from audit_log where action = 'placement.guarantee_completed'`,
      ),
    ).toBe(N);
  });

  it("create-placement-invoices: one row and one Stripe invoice per placement", async () => {
    const results = await twice(createPlacementInvoicesSweep(stripe.gateway));
    expect(total(results)).toBe(N);
    expect(results.every((r) => r.failed === 0)).toBe(true);
    expect(await count(t.db, sql`select count(*) as n from placement_invoices where status = 'draft'`)).toBe(
      N,
    );
    const invoiceCreates = stripe.simulator
      .requests()
      .filter((r) => r.method === "POST" && r.path === "/v1/invoices");
    expect(invoiceCreates).toHaveLength(N);
  });

  it("finalize-placement-invoices: each draft finalized once", async () => {
    const results = await twice(finalizePlacementInvoicesSweep(stripe.gateway));
    expect(total(results)).toBe(N);
    const finalizes = stripe.simulator
      .requests()
      .filter((r) => r.method === "POST" && /\/finalize$/.test(r.path));
    expect(finalizes).toHaveLength(N);
    expect(await count(t.db, sql`select count(*) as n from placement_invoices where status = 'open'`)).toBe(
      N,
    );
  });

  it("payout-schedules: each share credited once", async () => {
    // Paid two days ago, as the invoice.paid webhook records it.
    await t.db.update(placementInvoices).set({ status: "paid", paidAt: new Date(Date.now() - 2 * DAY_MS) });
    const results = await twice(payoutSchedulesSweep({ clearingDelayHours: 24 }));
    expect(total(results)).toBe(N);
    expect(results.every((r) => r.failed === 0)).toBe(true);
    expect(
      await count(t.db, sql`select count(*) as n from payout_schedules where status = 'processed'`),
    ).toBe(N);
    expect(
      await count(t.db, sql`select count(*) as n from ledger_transactions where kind = 'placement_share'`),
    ).toBe(N);
    expect((await platformBalances(t.db, "fees")).usd).toBe(N * 2_000);
  });

  it("escrow-releases: each due hold released once", async () => {
    const payees = await t.db.execute(sql`select distinct payee_id from payout_schedules`);
    const rows = (Array.isArray(payees) ? payees : (payees as { rows: unknown[] }).rows) as {
      payee_id: string;
    }[];
    for (const { payee_id } of rows) {
      await createEscrowHold(t.db, {
        payeeId: payee_id,
        amountCents: 500,
        reason: "reserve",
        releaseAt: new Date(Date.now() - 1000),
        actor: admin,
      });
    }
    const results = await twice(escrowReleasesSweep);
    expect(total(results)).toBe(rows.length);
    expect(
      await count(t.db, sql`select count(*) as n from ledger_transactions where kind = 'hold_release'`),
    ).toBe(rows.length);
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });
});
