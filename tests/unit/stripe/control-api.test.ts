import { spawn } from "node:child_process";
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

describe("npm run stripe:simulator", () => {
  it("starts on STRIPE_SIMULATOR_PORT, serves the SDK and stops on SIGTERM", async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
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
