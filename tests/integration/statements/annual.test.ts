import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as statementRoute from "@/app/api/v1/payees/[id]/statements/[year]/route";
import { queryRows } from "@/db/client";
import { systemActor } from "@/lib/actor";
import { getEnv } from "@/lib/env";
import { payeeBalances } from "@/lib/ledger";
import { latestCycle, nextCycle } from "@/lib/payouts/cycle";
import { triggerAndExecutePayoutRun } from "@/lib/payouts/run";
import {
  CSV_COLUMNS,
  payeeStatement,
  STATEMENT_CATEGORIES,
  statementTransactions,
} from "@/lib/statements/annual";
import { exportStatementsCsv, spreadsheetSafe } from "@/lib/statements/export";
import { apiRequest, routeParams, tokenFor } from "../../support/auth";
import { createTestDb, type TestDb } from "../../support/db";
import { StripeFlow } from "../../support/stripe-flow";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { useAppEnv } from "../payouts/helpers";

// Annual statements from the ledger: a payee earns through a destination charge at the simulator,
// refunds part of it (transfer reversed, fee refunded), is paid out by a run and the payout is paid;
// the statement's totals are Stripe's numbers, add up to the payee's balance, and each lists the
// ledger transactions behind it. The API serves the payee their own and staff anyone's; the CSV export
// streams every payee, read-only.

let t: TestDb;
let ts: TestStripe;
let flow: StripeFlow;
let year: number;
let earner: { payeeId: string; account: string };
let other: { payeeId: string; account: string };

beforeAll(async () => {
  [t, ts] = await Promise.all([createTestDb(), startTestStripe()]);
  useAppEnv(t.db, ts.simulator.url);
  flow = new StripeFlow(t.db, ts);
  year = new Date(ts.simulator.now() * 1000).getUTCFullYear();

  earner = await flow.payee("stmt-earner");
  flow.watch(earner.account);
  const pi = ts.simulator.createDestinationCharge({
    destination: earner.account,
    amount: 10_000,
    applicationFeeAmount: 1_000,
  });
  await flow.deliverNew();
  await ts.gateway.createRefund({
    paymentIntent: pi.id as string,
    amount: 2_000,
    reverseTransfer: true,
    refundApplicationFee: true,
    idempotencyKey: `stmt-refund-${randomUUID()}`,
  });
  await flow.deliverNew();
  const run = await triggerAndExecutePayoutRun(t.db, getEnv(), ts.gateway, {
    // the next cycle: its cutoff is after the charge
    cycleDate: nextCycle(latestCycle(new Date(), "UTC").cycleDate, "UTC").cycleDate,
    payeeIds: [earner.payeeId],
    trigger: "manual",
    actor: systemActor("statements-test"),
  });
  if (run.kind !== "run") throw new Error("no run");
  const [payout] = await queryRows<{ stripe_payout_id: string }>(
    t.db,
    sql`select stripe_payout_id from payouts where run_id = ${run.runId} and payee_id = ${earner.payeeId}`,
  );
  ts.simulator.settlePayout(payout!.stripe_payout_id, "paid");
  await flow.deliverNew();
  // a payee with a charge and nothing else, and one with no movement at all
  other = await flow.payee("stmt-other");
  ts.simulator.createDestinationCharge({
    destination: other.account,
    amount: 3_000,
    applicationFeeAmount: 300,
  });
  await flow.deliverNew();
  await t.db.execute(sql`update payees set display_name = '=HYPERLINK("x")' where id = ${other.payeeId}`);
  await flow.payee("stmt-idle");
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

describe("annual statement", () => {
  it("totals the year in Stripe's numbers, paid out by month, with the tax identity Stripe holds", async () => {
    const s = await payeeStatement(t.db, { payeeId: earner.payeeId, year, timeZone: "UTC" });
    expect(s.taxIdentity).toEqual({
      country: "US",
      businessType: "individual",
      stripeAccountId: earner.account,
    });
    expect(s.currencies).toHaveLength(1);
    const usd = s.currencies[0]!;
    expect(usd.currency).toBe("usd");
    // $100.00 charged, $10.00 fee; $20.00 refunded with the transfer reversed ($20.00 taken back from the
    // payee) and the fee refunded in proportion ($2.00 back to the payee): fees net $8.00, $72.00 paid out
    expect(usd.totals).toMatchObject({
      gross_earnings: 10_000,
      fees: 800,
      refunds_and_disputes: 2_000,
      adjustments: 0,
      reserves_held: 0,
      reserves_released: 0,
      paid_out: 7_200,
    });
    expect(usd.paidOutByMonth.reduce((a, b) => a + b, 0)).toBe(7_200);
    expect(usd.paidOutByMonth.filter((m) => m !== 0)).toHaveLength(1);
    // everything the year brought less what left is what the payee still has
    const balances = (await payeeBalances(t.db, earner.payeeId)).usd!;
    const kept = balances.available + balances.held + balances.in_transit;
    expect(
      usd.totals.gross_earnings -
        usd.totals.fees -
        usd.totals.refunds_and_disputes +
        usd.totals.adjustments -
        usd.totals.paid_out,
    ).toBe(kept);
    // the year before and the year after are empty
    expect(
      (await payeeStatement(t.db, { payeeId: earner.payeeId, year: year - 1, timeZone: "UTC" })).currencies,
    ).toEqual([]);
  });

  it("every total is traceable: its ledger transactions add up to it", async () => {
    const s = await payeeStatement(t.db, { payeeId: earner.payeeId, year, timeZone: "UTC" });
    for (const category of STATEMENT_CATEGORIES) {
      const { transactions, truncated } = await statementTransactions(t.db, {
        payeeId: earner.payeeId,
        year,
        timeZone: "UTC",
        category,
        currency: "usd",
      });
      expect(truncated).toBe(false);
      expect(
        transactions.reduce((sum, x) => sum + x.amountCents, 0),
        category,
      ).toBe(s.currencies[0]!.totals[category]);
      expect(transactions.length, category).toBe(s.currencies[0]!.transactionCounts[category]);
      if (transactions.length > 0) {
        const ids = JSON.stringify(transactions.map((x) => x.transactionId));
        const [found] = await queryRows<{ n: string }>(
          t.db,
          sql`select count(*) as n from ledger_transactions where id in (select (jsonb_array_elements_text(${ids}::jsonb))::uuid) and payee_id = ${earner.payeeId}`,
        );
        expect(Number(found!.n)).toBe(transactions.length);
      }
    }
    const gross = await statementTransactions(t.db, {
      payeeId: earner.payeeId,
      year,
      timeZone: "UTC",
      category: "gross_earnings",
    });
    expect(gross.transactions.map((x) => x.kind)).toEqual(["earning"]);
  });

  it("the API: the payee their own, finance and admins anyone's, a drill-down by category; others not found, bad input 400", async () => {
    const get = async (payeeId: string, token: string, query = "", y: string = String(year)) => {
      const res = await statementRoute.GET(
        apiRequest("GET", `/api/v1/payees/${payeeId}/statements/${y}${query}`, { token }),
        routeParams({ id: payeeId, year: y }) as never,
      );
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const own = await get(earner.payeeId, await tokenFor("payee", { payeeId: earner.payeeId }));
    expect(own.status).toBe(200);
    const currencies = own.body.currencies as {
      totals: Record<string, number>;
      drillDown: Record<string, string>;
    }[];
    expect(currencies[0]!.totals.gross_earnings).toBe(10_000);
    expect(currencies[0]!.drillDown.refunds_and_disputes).toBe(
      `/api/v1/payees/${earner.payeeId}/statements/${year}?category=refunds_and_disputes&currency=usd`,
    );
    expect((await get(earner.payeeId, await tokenFor("payee", { payeeId: other.payeeId }))).status).toBe(404);
    expect((await get(earner.payeeId, await tokenFor("finance"))).status).toBe(200);
    const drill = await get(
      earner.payeeId,
      await tokenFor("platform_admin"),
      "?category=refunds_and_disputes&currency=usd",
    );
    expect(drill.status).toBe(200);
    expect(drill.body).toMatchObject({
      category: "refunds_and_disputes",
      totalCents: 2_000,
      truncated: false,
    });
    expect((drill.body.transactions as { kind: string }[]).map((x) => x.kind)).toEqual(["refund"]);
    expect((await get(earner.payeeId, await tokenFor("finance"), "", "1999")).status).toBe(400);
    expect((await get(earner.payeeId, await tokenFor("finance"), "", "20x6")).status).toBe(400);
    expect((await get(earner.payeeId, await tokenFor("finance"), "?category=everything")).status).toBe(400);
    expect((await get(earner.payeeId, await tokenFor("finance"), "?currency=%00sd")).status).toBe(400);
    expect((await get(randomUUID(), await tokenFor("finance"))).status).toBe(404);
  });

  it("the CSV export streams every payee with movement, one row per currency, and writes nothing", async () => {
    const [before] = await queryRows<{ audit: string; ledger: string }>(
      t.db,
      sql`select (select count(*) from audit_log) as audit, (select count(*) from ledger_transactions) as ledger`,
    );
    const chunks: string[] = [];
    const out = new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    });
    const progress: number[] = [];
    const result = await exportStatementsCsv(t.db, {
      year,
      timeZone: "UTC",
      out,
      batchSize: 1,
      onProgress: (payees) => progress.push(payees),
    });
    expect(result).toEqual({ payees: 2, rows: 2 });
    expect(progress).toEqual([1, 2]);
    const lines = chunks.join("").trim().split("\n");
    expect(lines[0]).toBe(CSV_COLUMNS.join(","));
    const rows = lines.slice(1).map((l) => l.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/));
    const col = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);
    const mine = rows.find((r) => r[col("payee_id")] === earner.payeeId)!;
    expect(mine[col("gross_earnings_cents")]).toBe("10000");
    expect(mine[col("refunds_and_disputes_cents")]).toBe("2000");
    expect(mine[col("paid_out_cents")]).toBe("7200");
    expect(mine[col("business_type")]).toBe("individual");
    // a name a spreadsheet would run as a formula is written as text
    const theirs = rows.find((r) => r[col("payee_id")] === other.payeeId)!;
    expect(theirs[col("display_name")]).toBe(`"'=HYPERLINK(""x"")"`);
    expect(spreadsheetSafe("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(spreadsheetSafe(-5)).toBe(-5);
    const [after] = await queryRows<{ audit: string; ledger: string }>(
      t.db,
      sql`select (select count(*) from audit_log) as audit, (select count(*) from ledger_transactions) as ledger`,
    );
    expect(after).toEqual(before);
  });
});
