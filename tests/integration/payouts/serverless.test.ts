import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as continueRoute } from "@/app/internal/payouts/continue/route";
import { POST as runRoute } from "@/app/internal/payouts/run/route";
import { POST as relayRoute } from "@/app/internal/outbox/relay/route";
import { queryRows } from "@/db/client";
import { getEnv } from "@/lib/env";
import { qstashClient } from "@/lib/scheduler/dispatch";
import { scheduleDefinitions } from "@/lib/scheduler/schedules";
import { applyScheduleSync, planScheduleSync } from "@/lib/scheduler/sync";
import { createTestDb, type TestDb } from "../../support/db";
import { type LocalQStash, startLocalQStash } from "../../support/qstash";
import { type LocalSlack, startLocalSlack } from "../../support/slack";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { startAppServer } from "./app-server";
import { internalRequest, routeCtx, seedPayee, stripeWrites, useAppEnv } from "./helpers";

// The whole serverless path: schedules:sync writes the schedules through the real @upstash/qstash
// Client to a local QStash; the schedule fires signed at the run endpoint; the run stops at its time
// budget and publishes a continuation, which QStash delivers (and re-delivers) until the run is done.

let t: TestDb;
let ts: TestStripe;
let qstash: LocalQStash;
let slack: LocalSlack;
let app: Awaited<ReturnType<typeof startAppServer>>;

beforeAll(async () => {
  t = await createTestDb();
  ts = await startTestStripe();
  qstash = await startLocalQStash();
  slack = await startLocalSlack();
  app = await startAppServer([
    { method: "POST", pattern: /^\/internal\/payouts\/run$/, handler: runRoute as never },
    { method: "POST", pattern: /^\/internal\/payouts\/continue$/, handler: continueRoute as never },
  ]);
  useAppEnv(t.db, ts.simulator.url, {
    APP_BASE_URL: app.url,
    QSTASH_TOKEN: qstash.token,
    QSTASH_URL: qstash.url,
    QSTASH_CURRENT_SIGNING_KEY: qstash.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: qstash.nextSigningKey,
    // A 6 s function: a 2 s budget per invocation, and a slow Stripe, so the run needs continuations.
    PAYOUT_FUNCTION_MAX_DURATION_SECONDS: "10",
    STRIPE_PAYOUT_RATE_LIMIT: "4",
    SLACK_PAYOUT_WEBHOOK_URL: slack.url,
  });
  process.env.QSTASH_TOKEN = qstash.token;
  for (let i = 0; i < 16; i++)
    await seedPayee(t.db, ts, i % 2 ? { platformCents: 2000 + i } : { connectedCents: 2000 + i });
});
afterAll(async () => {
  delete process.env.QSTASH_TOKEN;
  await app?.close();
  await qstash?.close();
  await slack?.close();
  await ts?.close();
  await t?.close();
});

describe("serverless path through QStash", () => {
  it("schedules:sync creates every schedule once, then finds nothing to change", async () => {
    const client = qstashClient(getEnv());
    const defs = scheduleDefinitions(getEnv());
    const plan = await planScheduleSync(client, defs, app.url);
    expect(plan.actions.every((a) => a.action === "create")).toBe(true);
    expect(await applyScheduleSync(client, defs, plan)).toBe(defs.length);
    const run = qstash.schedules.get("payout-run")!;
    expect(run.cron).toBe("0 6 1,15 * *");
    expect(run.destination).toBe(`${app.url}/internal/payouts/run`);
    expect([...qstash.schedules.keys()]).toEqual(
      expect.arrayContaining(["webhook-replays", "escrow-releases", "outbox-relay"]),
    );
    const again = await planScheduleSync(client, defs, app.url);
    expect(again.actions.every((a) => a.action === "unchanged")).toBe(true);
  });

  it("the scheduled run continues through QStash until every payee is paid exactly once", async () => {
    const first = await qstash.fireSchedule("payout-run");
    expect(first.status).toBe(202);
    const { runId } = (await first.json()) as { runId: string };
    expect(qstash.messages.filter((m) => m.url.endsWith("/internal/payouts/continue")).length).toBe(1);

    // QStash delivers a continuation twice (a retry after a lost answer): harmless.
    const firstContinuation = qstash.messages.find((m) => m.url.endsWith("/continue"))!;
    const dup = await qstash.deliver(firstContinuation, { retried: 1 });
    expect(dup.status).toBe(200);
    for (let round = 0; round < 30; round++) {
      const responses = await qstash.drain({ max: 5 });
      if (responses.length === 0) break;
      for (const r of responses) expect(r.status).toBe(200);
    }
    const [run] = await queryRows<{ status: string }>(
      t.db,
      sql`select status from payout_runs where id = ${runId}`,
    );
    expect(run!.status).toBe("completed");
    const writes = stripeWrites(ts);
    expect(writes.payoutsCreated).toBe(16);
    expect(writes.payoutRequests).toBe(16);
    expect(writes.transfersCreated).toBe(8);
    const continuations = qstash.messages.filter((m) => m.url.endsWith("/continue"));
    expect(continuations.length).toBeGreaterThanOrEqual(1);
    expect(continuations.every((m) => m.flowControlKey === `payout-run-${runId}` && m.deduplicationId)).toBe(
      true,
    );
    expect(new Set(continuations.map((m) => m.deduplicationId)).size).toBe(continuations.length);
  });

  it("a forged QStash signature is refused with 401", async () => {
    const msg = qstash.messages[0]!;
    const res = await qstash.deliver(msg, { signingKey: "sig_not_the_key" });
    expect(res.status).toBe(401);
  });

  it("the outbox relay posts the run summary to Slack once, backing off on a Slack error", async () => {
    slack.failNext(1);
    const first = await relayRoute(internalRequest("POST", "/internal/outbox/relay", {}), routeCtx());
    const r1 = (await first.json()) as { claimed: number; published: number; failed: number };
    expect(r1.claimed).toBeGreaterThanOrEqual(1);
    expect(r1.failed).toBe(1);
    await t.db.execute(sql`update outbox_events set next_attempt_at = now() where published_at is null`);
    const second = await relayRoute(internalRequest("POST", "/internal/outbox/relay", {}), routeCtx());
    expect(((await second.json()) as { failed: number }).failed).toBe(0);
    const third = await relayRoute(internalRequest("POST", "/internal/outbox/relay", {}), routeCtx());
    expect(((await third.json()) as { claimed: number }).claimed).toBe(0);
    const summaries = slack.posts.filter((p) => p.text?.startsWith("Payout run"));
    expect(summaries.length).toBe(1);
    expect(summaries[0]!.text).toContain("16 sent");
  });
});
