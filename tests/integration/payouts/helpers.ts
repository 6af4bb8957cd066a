import { sql } from "drizzle-orm";
import { NextRequest } from "next/server";
import { type Db, queryRows } from "@/db/client";
import { connectedAccounts, payees, payoutSettings } from "@/db/schema";
import { postLedgerTransaction } from "@/lib/ledger";
import { payoutKey } from "@/lib/payouts/keys";
import { expect } from "vitest";
import { configureApp } from "../../support/app";
import type { TestStripe } from "../../support/stripe";

export const CRON_SECRET = "test-cron-secret-0123456789";

/** Point the app (getDb, getEnv, getStripe) at this suite's database and simulator. */
export function useAppEnv(db: Db, stripeUrl: string, extra: Record<string, string> = {}) {
  configureApp(db, {
    CRON_SECRET_KEY: CRON_SECRET,
    STRIPE_API_BASE_URL: stripeUrl,
    STRIPE_SECRET_KEY: "sk_test_simulator",
    APP_BASE_URL: "http://127.0.0.1:9",
    PAYOUT_MIN_THRESHOLD_CENTS: "1000",
    PAYOUT_TIMEZONE: "UTC",
    QSTASH_TOKEN: undefined,
    ...extra,
  });
}

export function internalRequest(
  method: string,
  path: string,
  body?: unknown,
  secret: string | null = CRON_SECRET,
) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (secret !== null) headers["x-cron-secret"] = secret;
  return new NextRequest(`http://127.0.0.1:9${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

export const routeCtx = <P extends Record<string, string>>(params: P = {} as P) => ({
  params: Promise.resolve(params),
});

let seq = 0;

/**
 * A payee with an onboarded Express account in the simulator (its flags copied to connected_accounts)
 * and money in `available`: `connectedCents` from destination charges (on the connected account, as
 * the webhook engineer tags them) and `platformCents` from placements (on the platform).
 */
export async function seedPayee(
  db: Db,
  ts: TestStripe,
  input: {
    country?: string;
    connectedCents?: number;
    platformCents?: number;
    onboarded?: boolean;
    minimumPayoutCents?: number;
    name?: string;
  },
) {
  seq++;
  const [payee] = await db
    .insert(payees)
    .values({ displayName: input.name ?? `Payee ${seq}`, email: `payee${seq}-${Date.now()}@example.com` })
    .returning();
  const payeeId = payee!.id;
  // card_payments as well as transfers, so onboarding turns charges_enabled on too.
  const created = await ts.stripe.accounts.create(
    {
      type: "express",
      email: payee!.email,
      country: input.country ?? "US",
      capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
      settings: { payouts: { schedule: { interval: "manual" } } },
      metadata: { payee_id: payeeId },
    },
    { idempotencyKey: `acct-${payeeId}` },
  );
  if (input.onboarded !== false) ts.simulator.onboardAccount(created.id);
  const account = await ts.gateway.retrieveAccount(created.id);
  await db.insert(connectedAccounts).values({
    payeeId,
    stripeAccountId: account.id,
    country: account.country ?? "US",
    chargesEnabled: account.charges_enabled,
    payoutsEnabled: account.payouts_enabled,
    detailsSubmitted: account.details_submitted,
  });
  if (input.minimumPayoutCents !== undefined) {
    await db.insert(payoutSettings).values({ payeeId, minimumPayoutCents: input.minimumPayoutCents });
  }
  // Earned well before the latest cycle's cutoff.
  const effectiveAt = new Date(Date.now() - 30 * 24 * 60 * 60 * 1000);
  if (input.connectedCents) {
    // A destination charge at 10% fee: the rest lands on the connected account.
    const gross = Math.round((input.connectedCents * 10) / 9);
    ts.simulator.createDestinationCharge({
      destination: account.id,
      amount: gross,
      applicationFeeAmount: gross - input.connectedCents,
    });
    await postLedgerTransaction(db, {
      idempotencyKey: `earning:${payeeId}:dc`,
      kind: "earning",
      description: "destination charge",
      currency: "usd",
      payeeId,
      effectiveAt,
      lines: [
        { kind: "stripe_clearing", amount: -input.connectedCents },
        { payeeId, kind: "available", location: "connected", amount: input.connectedCents },
      ],
    });
  }
  if (input.platformCents) {
    await postLedgerTransaction(db, {
      idempotencyKey: `earning:${payeeId}:placement`,
      kind: "placement_share",
      description: "placement share",
      currency: "usd",
      payeeId,
      effectiveAt,
      lines: [
        { kind: "stripe_clearing", amount: -input.platformCents },
        { payeeId, kind: "available", amount: input.platformCents },
      ],
    });
  }
  return { payeeId, accountId: account.id };
}

/** POST /v1/transfers and POST /v1/payouts requests that reached Stripe, per payout (metadata/transfer group). */
export function stripeWrites(ts: TestStripe) {
  const log = ts.simulator.requests(0, 1_000_000);
  const posts = (endpoint: string) => log.filter((r) => r.endpoint === endpoint && r.status < 400);
  const transfersCreated = posts("POST /v1/transfers").flatMap((r) =>
    r.createdIds.filter((id) => id.startsWith("tr_")),
  );
  const payoutsCreated = posts("POST /v1/payouts").flatMap((r) =>
    r.createdIds.filter((id) => id.startsWith("po_")),
  );
  return {
    transferRequests: posts("POST /v1/transfers").length,
    payoutRequests: posts("POST /v1/payouts").length,
    transfersCreated: new Set(transfersCreated).size,
    payoutsCreated: new Set(payoutsCreated).size,
    rateLimited: log.filter((r) => r.status === 429).length,
  };
}

export async function payoutRows(db: Db, runId: string) {
  return queryRows<Record<string, unknown>>(
    db,
    sql`select * from payouts where run_id = ${runId} order by id`,
  );
}

export async function expireLeases(db: Db, runId: string) {
  await db.execute(
    sql`update payouts set lease_expires_at = now() - interval '1 second' where run_id = ${runId} and status = 'processing'`,
  );
}

/**
 * The Idempotency-Key each transfer and payout of a run went out with, as the simulator's request log
 * recorded it: the request that created a row's tr_ / po_ carried `payoutKey(row, step)`, and no
 * transfer or payout request of the run carried any other key.
 */
export async function expectKeysSent(db: Db, ts: TestStripe, runId: string) {
  const rows = (await payoutRows(db, runId)).filter((r) => r.status !== "skipped");
  const log = ts.simulator.requests(0, 1_000_000);
  const writes = (endpoint: string) => log.filter((r) => r.endpoint === endpoint && r.status < 400);
  const creators = (endpoint: string, id: unknown) => writes(endpoint).filter((r) => r.createdIds.includes(String(id))).map((r) => r.idempotencyKey);
  const keyOf = (r: Record<string, unknown>, step: "transfer" | "payout") => payoutKey({ id: String(r.id), retries: Number(r.retries) }, step);
  const expected = new Set<string>();
  for (const r of rows) {
    if (Number(r.transfer_amount_cents) > 0) expected.add(keyOf(r, "transfer"));
    expected.add(keyOf(r, "payout"));
    if (r.stripe_transfer_id)
      expect(creators("POST /v1/transfers", r.stripe_transfer_id), `Idempotency-Key that created transfer ${r.stripe_transfer_id}`).toEqual([
        keyOf(r, "transfer"),
      ]);
    if (r.stripe_payout_id)
      expect(creators("POST /v1/payouts", r.stripe_payout_id), `Idempotency-Key that created payout ${r.stripe_payout_id}`).toEqual([
        keyOf(r, "payout"),
      ]);
  }
  const runIds = new Set(rows.map((r) => String(r.id)));
  const ofRun = (key: string | undefined) => [...runIds].some((id) => key?.startsWith(`payout:${id}:`));
  const stray = [...writes("POST /v1/transfers"), ...writes("POST /v1/payouts")]
    .filter((r) => !expected.has(r.idempotencyKey ?? "") && (ofRun(r.idempotencyKey) || r.createdIds.length > 0))
    .map((r) => `${r.endpoint} ${r.idempotencyKey}`);
  expect(stray, "transfer/payout requests under a key that is not payoutKey(row, step)").toEqual([]);
}
