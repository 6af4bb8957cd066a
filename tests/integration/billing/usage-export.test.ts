import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { systemActor } from "@/lib/actor";
import { exportUsage, type LiveResult } from "@/lib/billing/usage-export";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { eventsPerIdentifier, insertUsage, makeActiveClient, meterEventPosts } from "./helpers";

// The usage export's two gates and its exactly-once promise, against the simulator over HTTP.

let t: TestDb;
let stripe: TestStripe;
const actor = systemActor("test");
const day = (d: Date) => d.toISOString().slice(0, 10);
const start = new Date(Date.now() - 3 * 86_400_000);
const range = { start: day(start), end: day(new Date(Date.now() + 86_400_000)) };

beforeAll(async () => {
  [t, stripe] = await Promise.all([createTestDb(), startTestStripe()]);
});
afterAll(async () => {
  await stripe?.close();
  await t?.close();
});
beforeEach(async () => {
  await t.db.execute(sql`delete from usage_records`);
  await t.db.execute(sql`delete from usage_export_batches`);
  stripe.simulator.reset();
  stripe.simulator.setFaults({});
});

const marked = async () =>
  (
    await queryRows<{ exported: number; attempted: number; failed: number }>(
      t.db,
      sql`select count(exported_at)::int as exported, count(export_attempted_at)::int as attempted, count(export_failed_at)::int as failed from usage_records`,
    )
  )[0]!;
const batches = async () =>
  Number(
    (await queryRows<{ n: number }>(t.db, sql`select count(*)::int as n from usage_export_batches`))[0]!.n,
  );

describe("the two gates", () => {
  it("no LIVE, no --confirm, or only one of them: a dry run that names the missing gate, and zero meter event writes", async () => {
    const client = await makeActiveClient(t.db, stripe);
    await insertUsage(t.db, {
      clientId: client.id,
      customer: client.stripeCustomerId!,
      meter: "placements",
      n: 7,
      from: start,
    });
    await insertUsage(t.db, {
      clientId: client.id,
      customer: client.stripeCustomerId!,
      meter: "api_calls",
      n: 3,
      from: start,
    });
    const since = stripe.simulator.requests().at(-1)?.seq ?? 0;
    const cases = [
      { live: false, confirm: false, missing: ["LIVE=true", "--confirm"] },
      { live: true, confirm: false, missing: ["--confirm"] },
      { live: false, confirm: true, missing: ["LIVE=true"] },
    ];
    for (const c of cases) {
      const result = await exportUsage(t.db, stripe.gateway, {
        ...range,
        live: c.live,
        confirm: c.confirm,
        actor,
      });
      expect(result.mode).toBe("dry_run");
      if (result.mode !== "dry_run") throw new Error("not a dry run");
      expect(result.missingGates).toEqual(c.missing);
      expect(result.totals.records).toBe(10);
      expect(result.summary).toEqual([
        expect.objectContaining({ clientId: client.id, meter: "api_calls", records: 3, quantity: 1 + 2 + 3 }),
        expect.objectContaining({
          clientId: client.id,
          meter: "placements",
          records: 7,
          quantity: 1 + 2 + 3 + 4 + 5 + 1 + 2,
        }),
      ]);
      expect(result.wouldSend[0]).toMatchObject({ customer: client.stripeCustomerId, value: 1 });
    }
    expect(meterEventPosts(stripe, since)).toHaveLength(0);
    expect(stripe.simulator.meterEvents()).toHaveLength(0);
    expect(await marked()).toEqual({ exported: 0, attempted: 0, failed: 0 });
    expect(await batches()).toBe(0);

    const live = (await exportUsage(t.db, stripe.gateway, {
      ...range,
      live: true,
      confirm: true,
      actor,
    })) as LiveResult;
    expect(live).toMatchObject({
      mode: "live",
      status: "completed",
      total: 10,
      sent: 10,
      alreadyAtStripe: 0,
      failed: 0,
    });
    expect(meterEventPosts(stripe, since)).toHaveLength(10);
    expect(await marked()).toEqual({ exported: 10, attempted: 10, failed: 0 });
    const [batch] = await queryRows<Record<string, unknown>>(t.db, sql`select * from usage_export_batches`);
    expect(batch).toMatchObject({
      id: live.batchId,
      status: "completed",
      records_total: 10,
      records_sent: 10,
      actor: "test",
      range_start: range.start,
    });

    // Run again: nothing left to send, nothing sent.
    const again = (await exportUsage(t.db, stripe.gateway, {
      ...range,
      live: true,
      confirm: true,
      actor,
    })) as LiveResult;
    expect(again).toMatchObject({ status: "completed", total: 0, sent: 0 });
    expect(meterEventPosts(stripe, since)).toHaveLength(10);
  });

  it("refuses a range that is not dates, or ends before it starts, before anything", async () => {
    await expect(
      exportUsage(t.db, stripe.gateway, {
        start: "2026-13-01",
        end: "2026-12-01",
        live: true,
        confirm: true,
        actor,
      }),
    ).rejects.toThrow(/date/);
    await expect(
      exportUsage(t.db, stripe.gateway, {
        start: "2026-02-01",
        end: "2026-01-01",
        live: true,
        confirm: true,
        actor,
      }),
    ).rejects.toThrow(/before/);
    expect(await batches()).toBe(0);
  });
});

describe("exactly once", () => {
  it("an export stopped half way, its marks lost as in a kill, and run again sends each record once", async () => {
    const client = await makeActiveClient(t.db, stripe);
    const other = await makeActiveClient(t.db, stripe, "business");
    const rows = [
      ...(await insertUsage(t.db, {
        clientId: client.id,
        customer: client.stripeCustomerId!,
        meter: "placements",
        n: 120,
        from: start,
      })),
      ...(await insertUsage(t.db, {
        clientId: other.id,
        customer: other.stripeCustomerId!,
        meter: "api_calls",
        n: 80,
        from: start,
      })),
    ];
    // First run: interrupted (as on Ctrl-C) once 70 events reached Stripe.
    const abort = new AbortController();
    stripe.simulator.setFaults({ all: { latencyMs: 5 } });
    const watcher = setInterval(() => {
      if (stripe.simulator.meterEvents().length >= 70) abort.abort();
    }, 1);
    const first = (await exportUsage(t.db, stripe.gateway, {
      ...range,
      live: true,
      confirm: true,
      actor,
      concurrency: 4,
      pageSize: 50,
      signal: abort.signal,
    })) as LiveResult;
    clearInterval(watcher);
    expect(first.status).toBe("interrupted");
    const atStripe = stripe.simulator.meterEvents().length;
    expect(atStripe).toBeGreaterThanOrEqual(70);
    expect(atStripe).toBeLessThan(200);
    expect((await marked()).exported).toBe(atStripe);
    // A kill -9 between Stripe's answers and our marks: Stripe has the events, our rows say nothing.
    await t.db.execute(sql`update usage_records set exported_at = null`);

    // Run again, to the end: the events Stripe has are sent again under the same identifier and key.
    const second = (await exportUsage(t.db, stripe.gateway, {
      ...range,
      live: true,
      confirm: true,
      actor,
      pageSize: 50,
    })) as LiveResult;
    expect(second).toMatchObject({ status: "completed", total: 200, failed: 0 });
    expect(await marked()).toMatchObject({ exported: 200, failed: 0 });
    const posts = meterEventPosts(stripe);
    expect(posts).toHaveLength(atStripe + 200);
    expect(posts.filter((p) => p.replayed)).toHaveLength(atStripe);

    // Stripe has each record's event exactly once.
    const counts = eventsPerIdentifier(stripe);
    expect(counts.size).toBe(200);
    for (const row of rows) expect(counts.get(row.identifier)).toBe(1);
    // And a third run sends nothing: exported records are never sent again.
    const third = (await exportUsage(t.db, stripe.gateway, {
      ...range,
      live: true,
      confirm: true,
      actor,
    })) as LiveResult;
    expect(third).toMatchObject({ status: "completed", total: 0, sent: 0 });
    expect(meterEventPosts(stripe)).toHaveLength(atStripe + 200);
    const batchRows = await queryRows<{ status: string }>(
      t.db,
      sql`select status from usage_export_batches order by started_at`,
    );
    expect(batchRows.map((b) => b.status)).toEqual(["interrupted", "completed", "completed"]);
  });

  it("a record resent 23 hours later (marks lost) is still kept once at Stripe", async () => {
    const client = await makeActiveClient(t.db, stripe);
    const rows = await insertUsage(t.db, {
      clientId: client.id,
      customer: client.stripeCustomerId!,
      meter: "placements",
      n: 5,
      from: new Date(),
    });
    await exportUsage(t.db, stripe.gateway, { ...range, live: true, confirm: true, actor });
    await t.db.execute(sql`update usage_records set exported_at = null where id = ${rows[0]!.id}::uuid`);
    // The idempotency key has expired at Stripe (24 h); its identifier is still inside the window
    // Stripe keeps them unique in.
    stripe.simulator.advanceClock(23 * 3600);
    const fresh = stripe.gateway;
    const again = (await exportUsage(t.db, fresh, {
      ...range,
      live: true,
      confirm: true,
      actor,
    })) as LiveResult;
    expect(again).toMatchObject({ status: "completed", total: 1 });
    expect(again.sent + again.alreadyAtStripe).toBe(1);
    expect(eventsPerIdentifier(stripe).get(rows[0]!.identifier)).toBe(1);
  });

  it("Stripe's own error for one record marks that record, not the batch", async () => {
    const client = await makeActiveClient(t.db, stripe);
    const rows = await insertUsage(t.db, {
      clientId: client.id,
      customer: client.stripeCustomerId!,
      meter: "placements",
      n: 5,
      from: start,
    });
    // One record older than Stripe's 35 days: Stripe refuses its timestamp.
    const old = new Date(Date.now() - 40 * 86_400_000);
    await t.db.execute(
      sql`update usage_records set occurred_at = ${old.toISOString()}::timestamptz where id = ${rows[2]!.id}::uuid`,
    );
    const result = (await exportUsage(t.db, stripe.gateway, {
      start: day(old),
      end: range.end,
      live: true,
      confirm: true,
      actor,
    })) as LiveResult;
    expect(result).toMatchObject({ status: "completed_with_failures", total: 5, sent: 4, failed: 1 });
    const [failed] = await queryRows<{ id: string; export_error: string }>(
      t.db,
      sql`select id, export_error from usage_records where export_failed_at is not null`,
    );
    expect(failed).toMatchObject({ id: rows[2]!.id, export_error: expect.stringMatching(/timestamp/) });
    // Not retried by a plain rerun; --retry-failed tries it again (and Stripe still refuses it).
    expect(
      (
        (await exportUsage(t.db, stripe.gateway, {
          start: day(old),
          end: range.end,
          live: true,
          confirm: true,
          actor,
        })) as LiveResult
      ).total,
    ).toBe(0);
    const retried = (await exportUsage(t.db, stripe.gateway, {
      start: day(old),
      end: range.end,
      live: true,
      confirm: true,
      actor,
      retryFailed: true,
    })) as LiveResult;
    expect(retried).toMatchObject({ total: 1, failed: 1, sent: 0 });
  });
});
