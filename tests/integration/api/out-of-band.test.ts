import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as outOfBandRoute from "@/app/api/v1/payouts/out-of-band/route";
import { payeeBalancesByLocation } from "@/lib/ledger";
import { apiRequest, routeParams, tokenFor } from "../../support/auth";
import { createTestDb, type TestDb } from "../../support/db";
import { countRows, createPayeeWithAccount } from "../webhooks/helpers";
import { configureApp } from "../../support/app";

// POST /api/v1/payouts/out-of-band: ops record a payout made by hand at Stripe (the runbook's
// emergency). Admin only; the Idempotency-Key makes a retry return the same payout; bad input is a
// 400 with nothing written.

let t: TestDb;
let adminToken: string;
let payeeId: string;
const noParams = routeParams({}) as never;

const post = (body: unknown, options: { token?: string; key?: string | null } = {}) =>
  outOfBandRoute.POST(
    apiRequest("POST", "/api/v1/payouts/out-of-band", {
      token: options.token === undefined ? adminToken : options.token,
      body,
      headers: options.key === null ? {} : { "idempotency-key": options.key ?? "oob-key-0001" },
    }),
    noParams,
  );

beforeAll(async () => {
  t = await createTestDb();
  configureApp(t.db);
  adminToken = await tokenFor("platform_admin");
  ({ payeeId } = await createPayeeWithAccount(t.db, "acct_oob_api_1"));
});
afterAll(() => t.close());

const body = () => ({
  payeeId,
  amountCents: 12_345,
  currency: "usd",
  reason: "Payrun was down on the 15th; paid from the Dashboard",
});

describe("POST /api/v1/payouts/out-of-band", () => {
  it("refuses anonymous callers, payees and finance, and writes nothing", async () => {
    expect((await post(body(), { token: "" })).status).toBe(401);
    expect((await post(body(), { token: await tokenFor("finance") })).status).toBe(403);
    expect((await post(body(), { token: await tokenFor("payee", { payeeId }) })).status).toBe(403);
    expect(await countRows(t.db, "payouts")).toBe(0);
  });

  it("answers bad input with a 400 naming the problem, and writes nothing", async () => {
    const cases: [unknown, string | null, RegExp][] = [
      [body(), null, /Idempotency-Key/],
      [body(), "short", /Idempotency-Key must be 8 to 255/],
      [{ ...body(), amountCents: 0 }, "oob-bad-0001", /amountCents/],
      [{ ...body(), amountCents: 12.5 }, "oob-bad-0002", /amountCents/],
      [{ ...body(), currency: "dollars" }, "oob-bad-0003", /currency/],
      [{ ...body(), stripePayoutId: "tr_123" }, "oob-bad-0004", /po_/],
      [{ ...body(), reason: "bad\u0000text" }, "oob-bad-0005", /NUL/],
      [{ ...body(), extra: 1 }, "oob-bad-0006", /extra/],
    ];
    for (const [input, key, message] of cases) {
      const res = await post(input, { key });
      expect(res.status).toBe(400);
      expect(JSON.stringify(await res.json())).toMatch(message);
    }
    expect(await countRows(t.db, "payouts")).toBe(0);
    expect(await countRows(t.db, "audit_log")).toBe(0);
  });

  it("records the payout once per key, moves it from available to paid, and refuses the key for another payout", async () => {
    const first = await post(body(), { key: "oob-key-0001" });
    expect(first.status).toBe(201);
    const payout = (await first.json()) as {
      id: string;
      status: string;
      origin: string;
      amountCents: number;
    };
    expect(payout).toMatchObject({ status: "paid", origin: "out_of_band", amountCents: 12_345 });

    const again = await post(body(), { key: "oob-key-0001" });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(payout.id);

    const other = await post({ ...body(), amountCents: 99 }, { key: "oob-key-0001" });
    expect(other.status).toBe(409);
    expect(await countRows(t.db, "payouts")).toBe(1);

    const balances = await payeeBalancesByLocation(t.db, payeeId);
    const at = (kind: string, location: string) =>
      balances.find((b) => b.currency === "usd" && b.kind === kind && b.location === location)?.balance;
    expect(at("available", "connected")).toBe(-12_345);
    expect(at("paid", "bank")).toBe(12_345);
  });

  it("refuses a Stripe payout id already recorded", async () => {
    expect((await post({ ...body(), stripePayoutId: "po_handmade1" }, { key: "oob-key-0002" })).status).toBe(
      201,
    );
    const res = await post({ ...body(), stripePayoutId: "po_handmade1" }, { key: "oob-key-0003" });
    expect(res.status).toBe(409);
    expect(JSON.stringify(await res.json())).toMatch(/already recorded/);
  });
});
