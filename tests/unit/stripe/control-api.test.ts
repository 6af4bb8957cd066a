import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStripeClient } from "../../../lib/stripe/client";
import { startTestStripe, type TestStripe } from "../../support/stripe";

let t: TestStripe;
beforeAll(async () => {
  t = await startTestStripe();
});
afterAll(async () => {
  await t.close();
});

async function control<T = Record<string, unknown>>(
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${t.simulator.url}/_simulator/${route}`, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

describe("control API (/_simulator)", () => {
  it("onboards, charges, pays out, advances the clock and settles payouts over HTTP", async () => {
    const account = await t.stripe.accounts.create({
      type: "express",
      capabilities: { transfers: { requested: true } },
      settings: { payouts: { schedule: { interval: "manual" } } },
    });
    const onboarded = await control("POST", `accounts/${account.id}/onboard`);
    expect(onboarded.body).toMatchObject({ id: account.id, payouts_enabled: true, details_submitted: true });

    const charge = await control("POST", "charges", {
      destination: account.id,
      amount: 5_000,
      application_fee_amount: 500,
    });
    expect(charge.body).toMatchObject({ object: "payment_intent", status: "succeeded" });
    expect((await t.gateway.retrieveBalance(account.id)).available[0]?.amount).toBe(4_500);

    const payout = await t.gateway.createPayout({
      stripeAccount: account.id,
      amount: 4_500,
      currency: "usd",
      idempotencyKey: "ctl-po",
    });
    const settled = await control("POST", `payouts/${payout.id}/settle`, {
      outcome: "failed",
      failure_code: "no_account",
    });
    expect(settled.body).toMatchObject({ status: "failed", failure_code: "no_account" });
    const again = await control("POST", `payouts/${payout.id}/settle`, { outcome: "paid" });
    expect(again.status).toBe(400);

    const before = (await control<{ now: number }>("GET", "clock")).body.now;
    const advanced = await control<{ now: number }>("POST", "clock/advance", { seconds: 3_600 });
    expect(advanced.body.now).toBeGreaterThanOrEqual(before + 3_600);
    expect((await control("POST", "payouts/po_missing/settle", { outcome: "paid" })).status).toBe(404);
  });

  it("sets faults and lists requests with idempotency keys and created ids", async () => {
    const faults = await control("POST", "faults", {
      endpoints: { "GET /v1/balance": { latencyMs: 5 } },
      rateLimits: { globalPerSecond: 1_000 },
    });
    expect(faults.body).toMatchObject({ endpoints: { "GET /v1/balance": { latencyMs: 5 } } });
    await control("DELETE", "faults");
    const customer = await t.gateway.createCustomer({
      email: "log@example.com",
      name: "Log",
      idempotencyKey: "ctl-log",
    });
    const log = await control<{
      data: Array<{ idempotencyKey?: string; createdIds: string[]; seq: number }>;
    }>("GET", "requests?limit=1000");
    const entry = log.body.data.find((e) => e.idempotencyKey === "ctl-log");
    expect(entry?.createdIds).toEqual([customer.id]);
    const tail = await control<{ data: Array<{ seq: number }> }>("GET", `requests?since=${entry?.seq ?? 0}`);
    expect(tail.body.data.every((e) => e.seq > (entry?.seq ?? 0))).toBe(true);
  });

  it("configures webhooks and resets state", async () => {
    const configured = await control("POST", "webhooks", {
      url: "http://127.0.0.1:9/hooks",
      auto_deliver: false,
    });
    expect(configured.body).toMatchObject({ url: "http://127.0.0.1:9/hooks", autoDeliver: false });
    await control("POST", "webhooks", { url: null });
    expect((await control("POST", "reset")).status).toBe(200);
    expect(t.simulator.requests()).toHaveLength(0);
    expect((await control("GET", "nope")).status).toBe(404);
  });
});

describe("control API: reconciliation drills", () => {
  async function fundedPayee(): Promise<string> {
    const account = await t.stripe.accounts.create({
      type: "express",
      capabilities: { transfers: { requested: true } },
      settings: { payouts: { schedule: { interval: "manual" } } },
    });
    await control("POST", `accounts/${account.id}/onboard`);
    await control("POST", "charges", { destination: account.id, amount: 5_000, application_fee_amount: 500 });
    return account.id;
  }

  it("makes a payout by hand on a connected account, with its events", async () => {
    const account = await fundedPayee();
    const made = await control<{ id: string; amount: number; automatic: boolean; status: string }>(
      "POST",
      `accounts/${account}/payouts`,
      { amount: 1_000 },
    );
    expect(made.status).toBe(200);
    expect(made.body).toMatchObject({ amount: 1_000, automatic: false, status: "pending" });
    const created = await t.stripe.events.list(
      { types: ["payout.created"], limit: 1 },
      { stripeAccount: account },
    );
    expect(created.data[0]).toMatchObject({ account, data: { object: { id: made.body.id } } });
    expect(created.data[0]?.request?.id ?? null).toBeNull();
    // No amount: the whole available balance, as a Dashboard "pay out everything" would.
    const rest = await control<{ id: string; amount: number }>("POST", `accounts/${account}/payouts`, {
      automatic: true,
    });
    expect(rest.body.amount).toBe(3_500);
    const listed = await t.stripe.balanceTransactions.list(
      { payout: rest.body.id },
      { stripeAccount: account },
    );
    expect(listed.data.length).toBeGreaterThan(0);
    expect((await control("POST", `accounts/${account}/payouts`, {})).status).toBe(400);
    expect((await control("POST", "accounts/acct_missing/payouts", { amount: 1 })).status).toBe(404);
  });

  it("books an adjustment Payrun never asked for, and rewrites an object's amount", async () => {
    const account = await fundedPayee();
    const adjustment = await control<{ id: string; type: string; amount: number; net: number }>(
      "POST",
      `accounts/${account}/balance_transactions`,
      { amount: -250, description: "Negative balance recovery" },
    );
    expect(adjustment.body).toMatchObject({ type: "adjustment", amount: -250, net: -250 });
    expect((await t.gateway.retrieveBalance(account)).available[0]?.amount).toBe(4_250);
    const listed = await t.stripe.balanceTransactions.list(
      { type: "adjustment" },
      { stripeAccount: account },
    );
    expect(listed.data.map((bt) => [bt.id, bt.reporting_category])).toEqual([
      [adjustment.body.id, "other_adjustment"],
    ]);
    expect((await control("POST", `accounts/${account}/balance_transactions`, { amount: 1.5 })).status).toBe(
      400,
    );

    const [transfer] = (await t.stripe.transfers.list({ destination: account })).data;
    const changed = await control<{ amount: number }>("POST", `objects/${transfer?.id}/amount`, {
      amount: 4_900,
    });
    expect(changed.body.amount).toBe(4_900);
    expect((await t.stripe.transfers.retrieve(String(transfer?.id))).amount).toBe(4_900);
    // Only the object changed: no money moved.
    expect((await t.gateway.retrieveBalance(account)).available[0]?.amount).toBe(4_250);
    expect((await control("POST", "objects/tr_missing/amount", { amount: 1 })).status).toBe(404);
    expect((await control("POST", `objects/${account}/amount`, { amount: 1 })).status).toBe(400);
  });

  it("suppresses the webhooks of the next N events of a type, which stay in the Events API", async () => {
    const received: string[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        received.push((JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id: string }).id);
        res.writeHead(200);
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
      await control("POST", "webhooks", { url, auto_deliver: false });
      const suppressed = await control("POST", "webhooks/suppress", { type: "customer.created", count: 2 });
      expect(suppressed.body).toMatchObject({ pending: { "customer.created": 2 } });
      const customers = [];
      for (let i = 0; i < 3; i++)
        customers.push(await t.stripe.customers.create({ email: `drill${i}@example.com` }));
      await control("POST", "webhooks/deliver");
      const events = (await t.stripe.events.list({ types: ["customer.created"], limit: 3 })).data.reverse();
      expect(events.map((e) => (e.data.object as { id: string }).id)).toEqual(customers.map((c) => c.id));
      expect(received.filter((id) => events.some((e) => e.id === id))).toEqual([events[2]?.id]);
      const state = await control<{
        suppressions: { pending: object; suppressed: Array<{ eventId: string }> };
      }>("GET", "webhooks");
      expect(state.body.suppressions.pending).toEqual({});
      expect(state.body.suppressions.suppressed.map((s) => s.eventId)).toEqual([
        events[0]?.id,
        events[1]?.id,
      ]);
      expect((await control("POST", "webhooks/suppress", { count: 1 })).status).toBe(400);
    } finally {
      await control("POST", "webhooks", { url: null });
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  it("sets Stripe's processing fee", async () => {
    expect((await control("GET", "fees")).body).toEqual({ percent_basis_points: 0, fixed_cents: 0 });
    const set = await control("POST", "fees", { percent_basis_points: 290, fixed_cents: 30 });
    expect(set.body).toEqual({ percent_basis_points: 290, fixed_cents: 30 });
    expect((await control("POST", "fees", { percent_basis_points: -1 })).status).toBe(400);
    await control("POST", "fees", {});
    expect((await control("GET", "fees")).body).toEqual({ percent_basis_points: 0, fixed_cents: 0 });
  });
});

describe("npm run stripe:simulator", () => {
  it("starts on STRIPE_SIMULATOR_PORT, serves the SDK and stops on SIGTERM", async () => {
    // A port the system just handed out (bound on 0, then freed for the child), never a guess.
    const port = await new Promise<number>((resolve, reject) => {
      const probe = createServer();
      probe.once("error", reject);
      probe.listen(0, "127.0.0.1", () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const root = path.resolve(import.meta.dirname, "../../..");
    const child = spawn(
      process.execPath,
      [path.join(root, "node_modules/tsx/dist/cli.mjs"), "lib/cli/stripe-simulator.ts"],
      {
        cwd: root,
        env: {
          ...process.env,
          NODE_ENV: "test",
          STRIPE_SIMULATOR_PORT: String(port),
          STRIPE_SIMULATOR_PLATFORM_BALANCE_CENTS: "12345",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("simulator did not start")), 15_000);
        child.stdout.on("data", (chunk: Buffer) => {
          if (chunk.toString().includes(`http://127.0.0.1:${port}`)) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.on("exit", (code) => reject(new Error(`simulator exited with ${code}`)));
      });
      const stripe = createStripeClient({
        secretKey: "sk_test_simulator",
        apiBaseUrl: `http://127.0.0.1:${port}`,
      });
      const balance = await stripe.balance.retrieve();
      expect(balance.available[0]?.amount).toBe(12_345);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  });
});
