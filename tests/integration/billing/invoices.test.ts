import { eq, sql } from "drizzle-orm";
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as reasonsRoute from "@/app/api/v1/billing/adjustment-reasons/route";
import * as adjustmentsRoute from "@/app/api/v1/billing/adjustments/route";
import * as captureRoute from "@/app/api/v1/billing/invoices/[invoiceId]/capture/route";
import * as pdfRoute from "@/app/api/v1/billing/invoices/[invoiceId]/pdf/route";
import * as refundRoute from "@/app/api/v1/billing/invoices/[invoiceId]/refund/route";
import * as invoiceRoute from "@/app/api/v1/billing/invoices/[invoiceId]/route";
import { queryRows } from "@/db/client";
import { placementInvoices } from "@/db/schema";
import { adjustmentReasonCodes } from "@/lib/billing/adjustments";
import {
  authoriseInvoicePayment,
  type InvoiceView,
  refundReasonCodes,
  setBillingPilot,
} from "@/lib/billing/invoices";
import { loadEnv, resetEnvCache } from "@/lib/env";
import { payeeBalances, platformBalances, unbalancedTransactions } from "@/lib/ledger";
import { completeExpiredGuarantees } from "@/lib/placements/complete-guarantees";
import { createPlacementInvoicesSweep } from "@/lib/placements/create-invoices";
import { finalizePlacementInvoicesSweep } from "@/lib/placements/finalize-invoices";
import { listOpenBreaks } from "@/lib/reconciliation/breaks";
import { reconcileNow } from "@/lib/reconciliation/pass";
import { adjustmentReasonCodeValues, refundReasonCodeValues } from "@/lib/schemas/billing-invoices";
import { resetStripeClient } from "@/lib/stripe/client";
import { runSweep } from "@/lib/sweeps/run";
import { apiRequest, routeParams, tokenFor } from "../../support/auth";
import { createTestDb, type TestDb } from "../../support/db";
import { StripeFlow } from "../../support/stripe-flow";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { deliver } from "../webhooks/helpers";
import { admin, makeCustomer, makeExpiredPlacement, makePayee } from "../sweeps/helpers";

// Invoice capture, refund and timeline (docs/BILLING.md), through the routes, the real gateway and
// the Stripe simulator, with Stripe's webhooks delivered through the real intake.

let t: TestDb;
let ts: TestStripe;
let flow: StripeFlow;
let customer: string;
let adminToken: string;
let financeToken: string;
let payeeToken: string;
const reconEnv = loadEnv({ RECON_GRACE_SECONDS: "0" });

function setStage(stage: "off" | "pilot" | "general") {
  process.env.BILLING_ROLLOUT_STAGE = stage;
  resetEnvCache();
}

beforeAll(async () => {
  [t, ts] = await Promise.all([createTestDb(), startTestStripe()]);
  flow = new StripeFlow(t.db, ts);
  customer = await makeCustomer(ts);
  for (const key of ["SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_JWT_SECRET", "VERCEL"])
    delete process.env[key];
  process.env.STRIPE_API_BASE_URL = ts.simulator.url;
  process.env.STRIPE_SECRET_KEY = "sk_test_simulator";
  setStage("general");
  resetStripeClient();
  (globalThis as { __payrunDb?: unknown }).__payrunDb = {
    handle: { close: async () => {} },
    ready: Promise.resolve(t.db),
  };
  adminToken = await tokenFor("platform_admin");
  financeToken = await tokenFor("finance");
  payeeToken = await tokenFor("payee", { payeeId: (await makePayee(t.db, "Payee Token")).id });
});
afterAll(async () => {
  delete process.env.BILLING_ROLLOUT_STAGE;
  delete process.env.STRIPE_API_BASE_URL;
  resetEnvCache();
  resetStripeClient();
  await ts?.close();
  await t?.close();
});

/** A placement invoice, open at Stripe (made and finalized by the placement sweeps). */
async function openInvoice(feeCents = 20_000): Promise<string> {
  const payee = await makePayee(t.db, `Payee ${Math.random()}`);
  const placement = await makeExpiredPlacement(t.db, {
    payeeId: payee.id,
    customer,
    feeCents,
    shareCents: feeCents / 2,
  });
  await runSweep(t.db, completeExpiredGuarantees);
  await runSweep(t.db, createPlacementInvoicesSweep(ts.gateway));
  await runSweep(t.db, finalizePlacementInvoicesSweep(ts.gateway));
  const [row] = await t.db
    .select()
    .from(placementInvoices)
    .where(eq(placementInvoices.placementId, placement.id));
  expect(row?.stripeInvoiceId).toMatch(/^in_/);
  return row!.id;
}

async function authorised(feeCents = 20_000) {
  const id = await openInvoice(feeCents);
  const view = await authoriseInvoicePayment(t.db, ts.gateway, {
    invoiceId: id,
    actor: admin,
    stage: "general",
  });
  expect(view).toMatchObject({ authorisedCents: feeCents, capturableCents: feeCents });
  return view;
}

const params = (invoiceId: string) => routeParams({ invoiceId }) as never;
function post(path: string, body: unknown, key: string | null, token = adminToken) {
  const req = apiRequest("POST", path, { token, body });
  if (key) req.headers.set("idempotency-key", key);
  return req;
}
const capture = (id: string, body: unknown, key: string | null, token?: string) =>
  captureRoute.POST(post(`/api/v1/billing/invoices/${id}/capture`, body, key, token), params(id));
const refund = (id: string, body: unknown, key: string | null, token?: string) =>
  refundRoute.POST(post(`/api/v1/billing/invoices/${id}/refund`, body, key, token), params(id));
const adjust = (body: unknown, key: string | null, token?: string) =>
  adjustmentsRoute.POST(post("/api/v1/billing/adjustments", body, key, token), routeParams({}) as never);

const count = async (table: string) =>
  Number((await queryRows<{ n: string }>(t.db, sql.raw(`select count(*) as n from ${table}`)))[0]!.n);
const writes = async () => ({
  operations: await count("billing_invoice_operations"),
  adjustments: await count("billing_adjustments"),
  ledger: await count("ledger_transactions"),
  timeline: await count("billing_invoice_events"),
  audit: await count("audit_log"),
});

const shape = (view: InvoiceView) => view.timeline.map((e) => `${e.label}:${e.amountCents ?? "-"}`);

describe("capture and refund", () => {
  it("partial capture then partial refund: the invoice, the ledger and Stripe agree to the cent, and reconciliation finds no break", async () => {
    const inv = await authorised(20_000);
    const captured = await capture(inv.id, { amount: 12_000 }, "cap-partial-1");
    expect(captured.status).toBe(200);
    expect(await captured.json()).toMatchObject({
      capturedCents: 12_000,
      capturableCents: 0,
      refundableCents: 12_000,
      refundedCents: 0,
    });
    ts.simulator.advanceClock(60);
    const refunded = await refund(
      inv.id,
      { amount: 5_000, reasonCode: "client_request", note: "one day short" },
      "ref-partial-1",
    );
    expect(refunded.status).toBe(200);
    const view = (await refunded.json()) as InvoiceView;
    expect(view).toMatchObject({ capturedCents: 12_000, refundedCents: 5_000, refundableCents: 7_000 });
    expect(shape(view)).toEqual([
      "created:20000",
      "finalized:20000",
      "authorised:20000",
      "captured:12000",
      "partly_refunded:5000",
      "settled:12000",
    ]);
    expect(view.settledAt).not.toBeNull();

    // Stripe: the intent received 12 000, the rest of the hold released; the invoice is credited 12 000 and stays open.
    const intent = (await ts.stripe.paymentIntents.retrieve(
      view.stripePaymentIntentId!,
    )) as Stripe.PaymentIntent;
    expect(intent).toMatchObject({ status: "succeeded", amount_received: 12_000, amount_capturable: 0 });
    const charge = await ts.stripe.charges.retrieve(view.stripeChargeId!);
    expect(charge).toMatchObject({
      captured: true,
      amount_captured: 12_000,
      amount_refunded: 8_000 + 5_000,
      refunded: false,
    });
    const stripeInvoice = await ts.stripe.invoices.retrieve(view.stripeInvoiceId!);
    expect(stripeInvoice).toMatchObject({ status: "open", amount_paid: 12_000, amount_remaining: 8_000 });
    const payments = await ts.stripe.invoicePayments.list({ invoice: view.stripeInvoiceId! });
    expect(payments.data.map((p) => [p.status, p.amount_paid])).toEqual([["paid", 12_000]]);

    // The ledger: what the client paid less what went back, in client_funds, balanced.
    expect((await platformBalances(t.db, "client_funds")).usd).toBe(7_000);
    expect(await unbalancedTransactions(t.db)).toEqual([]);

    // The webhooks of the same changes add nothing: one entry and one posting per Stripe object.
    const before = await writes();
    const statuses = await flow.deliverNew();
    expect(statuses.filter((s) => !s.endsWith(":processed") && !s.endsWith(":ignored"))).toEqual([]);
    expect(statuses).toEqual(
      expect.arrayContaining([
        "charge.captured:processed",
        "refund.created:processed",
        "payment_intent.amount_capturable_updated:processed",
      ]),
    );
    const after = await writes();
    expect({ ...after, audit: 0 }).toEqual({ ...before, audit: 0 });
    const read = await invoiceRoute.GET(
      apiRequest("GET", `/api/v1/billing/invoices/${inv.id}`, { token: financeToken }),
      params(inv.id),
    );
    expect(shape((await read.json()) as InvoiceView)).toEqual(shape(view));

    await reconcileNow(t.db, ts.gateway, reconEnv);
    expect(await listOpenBreaks(t.db)).toEqual([]);
  });

  it("out-of-order webhooks build the same timeline as in-order ones", async () => {
    // The same story twice, at Stripe directly (as the Dashboard would): capture all, refund part, then the rest.
    const story = async () => {
      const inv = await authorised(9_000);
      await flow.deliverNew();
      const seenBefore = new Set((await ts.stripe.events.list({ limit: 100 })).data.map((e) => e.id));
      ts.simulator.advanceClock(120);
      await ts.gateway.capturePaymentIntent({
        paymentIntent: inv.stripePaymentIntentId!,
        idempotencyKey: `dash-cap-${inv.id}`,
      });
      ts.simulator.advanceClock(120);
      await ts.gateway.createRefund({
        paymentIntent: inv.stripePaymentIntentId!,
        amount: 4_000,
        idempotencyKey: `dash-r1-${inv.id}`,
      });
      ts.simulator.advanceClock(120);
      await ts.gateway.createRefund({
        paymentIntent: inv.stripePaymentIntentId!,
        idempotencyKey: `dash-r2-${inv.id}`,
      });
      const events = (await ts.stripe.events.list({ limit: 100 })).data.filter((e) => !seenBefore.has(e.id));
      return { inv, events: events.reverse() };
    };
    const a = await story();
    for (const event of a.events) await deliver(t.db, event, { gateway: () => ts.gateway });
    const b = await story();
    const shuffled = [...b.events].reverse();
    for (const event of [...shuffled, ...shuffled]) await deliver(t.db, event, { gateway: () => ts.gateway });
    await flow.deliverNew();

    const read = async (id: string) =>
      (await (
        await invoiceRoute.GET(apiRequest("GET", `/x/${id}`, { token: adminToken }), params(id))
      ).json()) as InvoiceView;
    const va = await read(a.inv.id);
    const vb = await read(b.inv.id);
    expect(shape(va)).toEqual([
      "created:9000",
      "finalized:9000",
      "authorised:9000",
      "captured:9000",
      "paid:9000",
      "partly_refunded:4000",
      "refunded:5000",
      "settled:9000",
    ]);
    expect(shape(vb)).toEqual(shape(va));
    expect(vb).toMatchObject({
      capturedCents: 9_000,
      refundedCents: 9_000,
      refundableCents: 0,
      status: "paid",
    });
    expect(vb.timeline.map((e) => e.origin)).toContain("webhook");
    await reconcileNow(t.db, ts.gateway, reconEnv);
    expect(await listOpenBreaks(t.db)).toEqual([]);
  });

  it("the PDF link redirects to Stripe's invoice_pdf", async () => {
    const id = await openInvoice();
    const res = await pdfRoute.GET(
      apiRequest("GET", `/api/v1/billing/invoices/${id}/pdf`, { token: financeToken }),
      params(id),
    );
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toMatch(/^https:\/\/pay\.stripe\.com\/invoice\/.+\/pdf$/);
  });
});

describe("rollout stages", () => {
  it("off and pilot (unflagged) answer 409 and write nothing; a pilot invoice goes through", async () => {
    const inv = await authorised();
    const start = await writes();
    const requests = ts.simulator.requests().length;
    setStage("off");
    const off = await capture(inv.id, {}, "stage-off-1");
    expect(off.status).toBe(409);
    expect(((await off.json()) as { error: { message: string } }).error.message).toContain(
      "BILLING_ROLLOUT_STAGE=off",
    );
    setStage("pilot");
    const notInPilot = await capture(inv.id, {}, "stage-pilot-1");
    expect(notInPilot.status).toBe(409);
    expect(((await notInPilot.json()) as { error: { message: string } }).error.message).toContain("pilot");
    expect(await writes()).toEqual(start);
    expect(ts.simulator.requests().length).toBe(requests);

    await setBillingPilot(t.db, { invoiceId: inv.id, pilot: true, actor: admin });
    const inPilot = await capture(inv.id, {}, "stage-pilot-2");
    expect(inPilot.status).toBe(200);
    expect(await inPilot.json()).toMatchObject({ capturedCents: 20_000, billingPilot: true });
    setStage("general");
  });
});

describe("refusals and bad input", () => {
  it("every endpoint refuses the wrong role and bad input with a clear 4xx, and writes nothing", async () => {
    const inv = await authorised();
    const start = await writes();
    const expectStatus = async (res: Response | Promise<Response>, status: number) => {
      const r = await res;
      expect(r.status).toBe(status);
      const body = (await r.json()) as { error: { message: string } };
      expect(body.error.message.length).toBeGreaterThan(5);
    };
    await expectStatus(capture(inv.id, {}, "role-1", financeToken), 403);
    await expectStatus(capture(inv.id, {}, "role-2", payeeToken), 403);
    await expectStatus(refund(inv.id, { reasonCode: "duplicate" }, "role-3", financeToken), 403);
    await expectStatus(adjust({}, "role-4", financeToken), 403);
    await expectStatus(invoiceRoute.GET(apiRequest("GET", "/x", { token: payeeToken }), params(inv.id)), 403);
    await expectStatus(pdfRoute.GET(apiRequest("GET", "/x", { token: payeeToken }), params(inv.id)), 403);
    await expectStatus(
      reasonsRoute.GET(apiRequest("GET", "/x", { token: payeeToken }), routeParams({}) as never),
      403,
    );
    await expectStatus(capture(inv.id, {}, "no-token", ""), 401);

    await expectStatus(capture(inv.id, {}, null), 400); // no Idempotency-Key
    await expectStatus(capture(inv.id, {}, "bad key with spaces"), 400);
    await expectStatus(capture(inv.id, { amount: -5 }, "bad-amount-1"), 400);
    await expectStatus(capture(inv.id, { amount: 1.5 }, "bad-amount-2"), 400);
    await expectStatus(capture(inv.id, { amount: 100, extra: 1 }, "bad-field-1"), 400);
    await expectStatus(capture(inv.id, "{not json", "bad-json-1"), 400);
    await expectStatus(capture(inv.id, { amount: 20_001 }, "too-much-1"), 422);
    await expectStatus(capture("00000000-0000-4000-8000-000000000000", {}, "unknown-1"), 404);
    await expectStatus(capture("not-a-uuid", {}, "bad-id-1"), 400);
    await expectStatus(refund(inv.id, { reasonCode: "because" }, "bad-reason-1"), 400);
    await expectStatus(refund(inv.id, { reasonCode: "duplicate", note: "a\u0000b" }, "nul-1"), 400);
    await expectStatus(refund(inv.id, { reasonCode: "duplicate" }, "nothing-captured-1"), 409);
    await expectStatus(
      adjust(
        { target: "payee", direction: "credit", amount: 100, currency: "usd", reasonCode: "bonus" },
        "adj-bad-1",
      ),
      400,
    );
    await expectStatus(
      adjust(
        {
          target: "client",
          payeeId: inv.id,
          direction: "credit",
          amount: 100,
          currency: "usd",
          reasonCode: "bonus",
          note: "x",
        },
        "adj-bad-2",
      ),
      400,
    );
    await expectStatus(
      adjust(
        {
          target: "payee",
          payeeId: "00000000-0000-4000-8000-000000000000",
          direction: "credit",
          amount: 100,
          currency: "usd",
          reasonCode: "bonus",
          note: "x",
        },
        "adj-bad-3",
      ),
      404,
    );
    await expectStatus(
      adjust(
        {
          target: "client",
          clientStripeCustomerId: customer,
          direction: "credit",
          amount: 100,
          currency: "usd",
          reasonCode: "bonus",
          note: "x",
        },
        "adj-bad-4",
      ),
      422,
    );
    await expectStatus(
      adjust(
        {
          target: "payee",
          payeeId: inv.id,
          direction: "credit",
          amount: 100,
          currency: "usd",
          reasonCode: "bonus",
          note: "x",
        },
        null,
      ),
      400,
    );
    expect(await writes()).toEqual(start);
  });
});

describe("idempotent replays", () => {
  it("the same key and body answer the same; another body under the key is a 409", async () => {
    const inv = await authorised();
    const first = await capture(inv.id, { amount: 15_000 }, "replay-cap-1");
    const firstBody = await first.json();
    const captures = () =>
      ts.simulator.requests().filter((r) => (r.endpoint ?? "").includes("/capture")).length;
    const calls = captures();
    const again = await capture(inv.id, { amount: 15_000 }, "replay-cap-1");
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(firstBody);
    expect(captures()).toBe(calls);
    const other = await capture(inv.id, { amount: 14_000 }, "replay-cap-1");
    expect(other.status).toBe(409);

    const r1 = await refund(inv.id, { amount: 1_000, reasonCode: "duplicate" }, "replay-ref-1");
    const r1Body = await r1.json();
    expect(
      await (await refund(inv.id, { amount: 1_000, reasonCode: "duplicate" }, "replay-ref-1")).json(),
    ).toEqual(r1Body);
    expect(
      (await refund(inv.id, { amount: 1_000, reasonCode: "billing_error" }, "replay-ref-1")).status,
    ).toBe(409);
    expect(
      (
        (await (
          await invoiceRoute.GET(apiRequest("GET", "/x", { token: adminToken }), params(inv.id))
        ).json()) as InvoiceView
      ).refundedCents,
    ).toBe(1_000);
  });

  it("adjustments: posted once per key, to the ledger and the audit log", async () => {
    const payee = await makePayee(t.db, "Adjusted Ada");
    const body = {
      target: "payee",
      payeeId: payee.id,
      direction: "credit",
      amount: 2_500,
      currency: "usd",
      reasonCode: "bonus",
      note: "Q3 bonus",
    };
    const first = await adjust(body, "adj-replay-1");
    expect(first.status).toBe(201);
    const created = (await first.json()) as { id: string };
    const again = await adjust(body, "adj-replay-1");
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(created.id);
    expect((await adjust({ ...body, amount: 2_600 }, "adj-replay-1")).status).toBe(409);
    expect((await payeeBalances(t.db, payee.id)).usd?.available).toBe(2_500);
    const charge = await adjust(
      { ...body, direction: "charge", amount: 4_000, reasonCode: "clawback", note: "paid twice" },
      "adj-replay-2",
    );
    expect(charge.status).toBe(201);
    expect((await payeeBalances(t.db, payee.id)).usd?.available).toBe(-1_500);
    const client = await adjust(
      {
        target: "client",
        clientStripeCustomerId: customer,
        direction: "credit",
        amount: 300,
        currency: "usd",
        reasonCode: "service_credit",
        note: "late shortlist",
      },
      "adj-client-1",
    );
    expect(client.status).toBe(201);
    const audits = await queryRows<{ n: string }>(
      t.db,
      sql`select count(*) as n from audit_log where action = 'billing_adjustment.created'`,
    );
    expect(Number(audits[0]!.n)).toBe(3);
    const reasons = (await (
      await reasonsRoute.GET(apiRequest("GET", "/x", { token: financeToken }), routeParams({}) as never)
    ).json()) as { adjustment: { code: string }[]; refund: { code: string }[] };
    expect(reasons.adjustment.map((r) => r.code)).toEqual([...adjustmentReasonCodeValues]);
    expect(reasons.refund.map((r) => r.code)).toEqual([...refundReasonCodeValues]);
    expect([...adjustmentReasonCodes]).toEqual([...adjustmentReasonCodeValues]);
    expect([...refundReasonCodes]).toEqual([...refundReasonCodeValues]);
    expect(await unbalancedTransactions(t.db)).toEqual([]);
  });
});
