import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { payees } from "@/db/schema";
import { systemActor } from "@/lib/actor";
import { decideBankAccountMatch, ensureConnectedAccount, listBankAccountMatches } from "@/lib/accounts";
import { skipReasonText } from "@/lib/dashboard/failure-reasons";
import { getEnv } from "@/lib/env";
import { postLedgerTransaction } from "@/lib/ledger";
import { approvalRefusal, approvePayout } from "@/lib/payouts/approval";
import { previewPayeePayout } from "@/lib/payouts/queries";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { useAppEnv } from "../payouts/helpers";
import { deliver } from "../webhooks/helpers";

// Duplicate bank accounts: fingerprints learned at onboarding (the account Stripe returns), from
// account.updated and from account.external_account.*; two payees on one bank account are both held
// (duplicate_bank_account) with one alert, until a platform admin clears or confirms the match, or
// they stop sharing it (the fingerprint changes or the bank account is removed at Stripe).

let t: TestDb;
let ts: TestStripe;
const actor = systemActor("bank-accounts-test");
const admin = { type: "user" as const, id: randomUUID(), role: "platform_admin" as const };

beforeAll(async () => {
  [t, ts] = await Promise.all([createTestDb(), startTestStripe()]);
  useAppEnv(t.db, ts.simulator.url);
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

const seen = new Set<string>();
/** The account's events not delivered yet, oldest first (optionally only some types). */
async function newEvents(account: string, types?: string[]): Promise<Stripe.Event[]> {
  const page = await ts.stripe.events.list({ limit: 100 }, { stripeAccount: account });
  return page.data
    .filter((e) => !seen.has(e.id) && (!types || types.includes(e.type)))
    .reverse()
    .map((e) => {
      seen.add(e.id);
      return e;
    });
}
async function deliverAll(account: string, types?: string[]) {
  for (const event of await newEvents(account, types)) {
    const result = await deliver(t.db, event);
    expect(result.status, `${event.type} ${result.error ?? ""}`).toBe("processed");
  }
}

/** A payee whose Express account Payrun created (onboarding sync), onboarded with `fingerprint`, with $50 available. */
async function payee(label: string, fingerprint?: string) {
  const [row] = await t.db
    .insert(payees)
    .values({ displayName: label, email: `${label}-${randomUUID()}@example.com` })
    .returning();
  const { account } = await ensureConnectedAccount(t.db, ts.gateway, row!.id, actor);
  ts.simulator.onboardAccount(account.stripeAccountId, { bankFingerprint: fingerprint });
  await deliverAll(account.stripeAccountId);
  await postLedgerTransaction(t.db, {
    idempotencyKey: `earning:${row!.id}`,
    kind: "earning",
    description: "test earning",
    currency: "usd",
    payeeId: row!.id,
    effectiveAt: new Date(Date.now() - 86_400_000),
    lines: [
      { kind: "stripe_clearing", amount: -5000 },
      { payeeId: row!.id, kind: "available", location: "connected", amount: 5000 },
    ],
  });
  return { payeeId: row!.id, account: account.stripeAccountId };
}
const reasonFor = async (payeeId: string) =>
  (await previewPayeePayout(t.db, getEnv(), payeeId)).payouts[0]?.reason ?? null;
const matchesOf = (payeeId: string) =>
  queryRows<{ id: string; status: string; fingerprint: string }>(
    t.db,
    sql`select id, status, fingerprint from bank_account_matches where payee_a = ${payeeId} or payee_b = ${payeeId} order by created_at`,
  );
const alertsFor = (matchId: string) =>
  queryRows<{ dedupe_key: string }>(
    t.db,
    sql`select dedupe_key from outbox_events where type = 'alert.duplicate_bank_account' and aggregate_id = ${matchId} order by id`,
  );
const fp = () => `fp${randomUUID().replaceAll("-", "").slice(0, 14)}`;

describe("the simulator's bank accounts", () => {
  it("carry Stripe's fields, a fingerprint unique per bank account, the account they belong to", async () => {
    const a = await ts.gateway.createExpressAccount({
      email: "x@example.com",
      country: "US",
      payeeId: "x",
      idempotencyKey: `x-${randomUUID()}`,
    });
    const b = await ts.gateway.createExpressAccount({
      email: "y@example.com",
      country: "US",
      payeeId: "y",
      idempotencyKey: `y-${randomUUID()}`,
    });
    const bankA = a.external_accounts!.data[0] as Stripe.BankAccount;
    const bankB = b.external_accounts!.data[0] as Stripe.BankAccount;
    expect(bankA).toMatchObject({
      object: "bank_account",
      account: a.id,
      last4: "6789",
      status: "new",
      country: "US",
    });
    expect(bankA.fingerprint).toMatch(/^[0-9A-Za-z]{16}$/);
    expect(bankA.fingerprint).not.toBe(bankB.fingerprint);
    const replaced = ts.simulator.setBankAccount(a.id, { fingerprint: bankB.fingerprint! });
    const banks = (replaced.external_accounts as { data: Stripe.BankAccount[] }).data;
    expect(banks.map((x) => x.fingerprint)).toEqual([bankB.fingerprint]);
    const events = await newEvents(a.id);
    expect(events.map((e) => e.type)).toEqual([
      "account.external_account.created",
      "account.external_account.deleted",
      "account.updated",
    ]);
    expect((events[1]!.data.object as unknown as { deleted: boolean }).deleted).toBe(true);
  });
});

describe("duplicate bank accounts", () => {
  const shared = fp();
  let a: { payeeId: string; account: string };
  let b: { payeeId: string; account: string };

  it("two payees onboarding with one bank account: one match, one alert, both held; others paid", async () => {
    a = await payee("Ann Shared", shared);
    expect(await matchesOf(a.payeeId)).toEqual([]);
    expect(await reasonFor(a.payeeId)).toBeNull();
    b = await payee("Ben Shared", shared);
    const matches = await matchesOf(a.payeeId);
    expect(matches).toEqual([expect.objectContaining({ status: "open", fingerprint: shared })]);
    expect(await alertsFor(matches[0]!.id)).toHaveLength(1);
    expect(await reasonFor(a.payeeId)).toBe("duplicate_bank_account");
    expect(await reasonFor(b.payeeId)).toBe("duplicate_bank_account");
    expect(skipReasonText("duplicate_bank_account")).toMatch(/also registered to another payee/);
    const other = await payee("Cy Alone");
    expect(await reasonFor(other.payeeId)).toBeNull();
    // the same events again (a redelivery, a replay) change nothing
    const listed = await listBankAccountMatches(t.db);
    expect(listed.filter((m) => m.payees.some((p) => p.payeeId === a.payeeId))).toHaveLength(1);
  });

  it("a fingerprint arriving late (a bank added after onboarding, its event before account.updated) still matches", async () => {
    const late = fp();
    const early = await payee("Eve Early", late);
    const d = await payee("Dan Late");
    expect(await matchesOf(d.payeeId)).toEqual([]);
    ts.simulator.setBankAccount(d.account, { fingerprint: late });
    // only the external account's own event has come so far
    await deliverAll(d.account, ["account.external_account.created"]);
    const matches = await matchesOf(d.payeeId);
    expect(matches).toEqual([expect.objectContaining({ status: "open", fingerprint: late })]);
    expect(await reasonFor(early.payeeId)).toBe("duplicate_bank_account");
    // the rest arrives: the old bank account is deleted, account.updated lists the new one; still one match, one alert
    await deliverAll(d.account);
    expect(await matchesOf(d.payeeId)).toHaveLength(1);
    expect(await alertsFor(matches[0]!.id)).toHaveLength(1);
  });

  it("a fingerprint that changes away lifts the hold (resolved); changing back opens it again with a new alert", async () => {
    const [match] = await matchesOf(b.payeeId);
    ts.simulator.setBankAccount(b.account, { fingerprint: fp() });
    await deliverAll(b.account);
    expect((await matchesOf(b.payeeId))[0]).toMatchObject({ id: match!.id, status: "resolved" });
    expect(await reasonFor(a.payeeId)).toBeNull();
    expect(await reasonFor(b.payeeId)).toBeNull();
    ts.simulator.setBankAccount(b.account, { fingerprint: shared });
    await deliverAll(b.account);
    expect((await matchesOf(b.payeeId))[0]).toMatchObject({ id: match!.id, status: "open" });
    expect(await alertsFor(match!.id)).toHaveLength(2);
    expect(await reasonFor(b.payeeId)).toBe("duplicate_bank_account");
  });

  it("a bank account removed at Stripe (fingerprint cleared) resolves the match", async () => {
    const gone = fp();
    const f = await payee("Fay Removed", gone);
    const g = await payee("Gil Stays", gone);
    expect((await matchesOf(f.payeeId))[0]?.status).toBe("open");
    ts.simulator.setBankAccount(f.account, { fingerprint: null });
    await deliverAll(f.account);
    expect((await matchesOf(f.payeeId))[0]?.status).toBe("resolved");
    expect(await reasonFor(g.payeeId)).toBeNull();
    const [row] = await queryRows<{ deleted: boolean }>(
      t.db,
      sql`select bool_and(deleted) as deleted from external_bank_accounts where payee_id = ${f.payeeId}`,
    );
    expect(row!.deleted).toBe(true);
  });

  it("a platform admin confirms (still held) or clears (paid again), with a reason, audited on both payees", async () => {
    const gone2 = fp();
    const [match] = await matchesOf(a.payeeId);
    const confirmed = await decideBankAccountMatch(t.db, {
      matchId: match!.id,
      decision: "confirm",
      actor: admin,
      reason: "same person, two accounts",
    });
    expect(confirmed.status).toBe("confirmed");
    expect(await reasonFor(a.payeeId)).toBe("duplicate_bank_account");
    await expect(
      decideBankAccountMatch(t.db, {
        matchId: match!.id,
        decision: "confirm",
        actor: admin,
        reason: "again",
      }),
    ).rejects.toMatchObject({
      code: "conflict",
    });
    // a confirmed match stays, whatever Stripe says later
    ts.simulator.setBankAccount(b.account, { fingerprint: fp() });
    await deliverAll(b.account);
    expect((await matchesOf(a.payeeId))[0]?.status).toBe("confirmed");
    await decideBankAccountMatch(t.db, {
      matchId: match!.id,
      decision: "clear",
      actor: admin,
      reason: "spouses, checked by phone",
    });
    expect(await reasonFor(a.payeeId)).toBeNull();
    expect(await reasonFor(b.payeeId)).toBeNull();
    const audits = await queryRows<{ entity_type: string; entity_id: string; reason: string }>(
      t.db,
      sql`select entity_type, entity_id, reason from audit_log where action = 'bank_account_match.cleared' order by entity_type, entity_id`,
    );
    expect(audits.map((x) => x.entity_type).sort()).toEqual([
      "bank_account_match",
      "payee_bank",
      "payee_bank",
    ]);
    expect(audits.every((x) => x.reason === "spouses, checked by phone")).toBe(true);
    // a large payout of a held payee cannot be approved while the match holds it
    const g = await payee("Hal Held", gone2);
    const h = await payee("Ida Held", gone2);
    const [runRow] = await queryRows<{ id: string }>(
      t.db,
      sql`insert into payout_runs (cycle_key, cycle_date, cutoff_at, status) values ('held-check', '2030-01-01', now(), 'completed') returning id`,
    );
    const [awaiting] = await queryRows<{ id: string }>(
      t.db,
      sql`insert into payouts (run_id, payee_id, amount_cents, currency, status, approval_expires_at)
          values (${runRow!.id}, ${g.payeeId}, 5000, 'usd', 'awaiting_approval', now() + interval '1 day') returning id`,
    );
    await expect(
      approvePayout(t.db, getEnv(), { payoutId: awaiting!.id, actor: { type: "user", id: randomUUID(), role: "finance" }, reason: "ok" }),
    ).rejects.toMatchObject({ code: "conflict", message: expect.stringMatching(/also another payee's/) });
    expect(h.payeeId).not.toBe(g.payeeId);
    // whoever decided on the payees' bank may not approve their large payouts (four-eyes)
    expect(await approvalRefusal(t.db, admin, { payeeId: a.payeeId, userId: null })).toMatch(/bank settings/);
  });

  it("an unknown account's bank event waits (pending) until the account is stored", async () => {
    const created = await ts.gateway.createExpressAccount({
      email: "z@example.com",
      country: "US",
      payeeId: "z",
      idempotencyKey: `z-${randomUUID()}`,
    });
    ts.simulator.setBankAccount(created.id, { fingerprint: fp() });
    const [event] = await newEvents(created.id, ["account.external_account.created"]);
    const result = await deliver(t.db, event!);
    expect(result.status).toBe("pending");
    const [row] = await queryRows<{ status: string }>(
      t.db,
      sql`select status from processor_events where event_id = ${event!.id}`,
    );
    expect(row!.status).toBe("pending");
  });
});
