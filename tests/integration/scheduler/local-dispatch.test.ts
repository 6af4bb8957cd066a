import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { dispatchInternal } from "@/lib/scheduler/dispatch";
import { type LocalDispatchPump, startLocalDispatchPump } from "@/lib/scheduler/local-pump";
import { createTestDb, type TestDb } from "../../support/db";

// The local dispatcher stands in for QStash on the embedded default: a dispatched call is a row
// first, delivered by a pump, so a delayed continuation outlives the process that asked for it.

const SECRET = "local-dispatch-secret-0123456789";
let t: TestDb;
let server: Server;
let url: string;
let received: { path: string; body: unknown; secret: string | undefined; at: number }[] = [];
let answer: (path: string) => number | "hang" = () => 200;
let inFlightPeak = 0;
let inFlight = 0;
const pumps: LocalDispatchPump[] = [];

const env = { QSTASH_TOKEN: undefined, QSTASH_URL: undefined, APP_BASE_URL: "http://127.0.0.1:9" };

beforeAll(async () => {
  t = await createTestDb();
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      received.push({
        path,
        body: JSON.parse(Buffer.concat(chunks).toString() || "{}"),
        secret: req.headers["x-cron-secret"] as string,
        at: Date.now(),
      });
      const outcome = answer(path);
      if (outcome === "hang") return; // never answers: the pump's process "dies" with it in flight
      inFlight++;
      inFlightPeak = Math.max(inFlightPeak, inFlight);
      setTimeout(() => {
        inFlight--;
        res.writeHead(outcome).end("{}");
      }, 50);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
beforeEach(async () => {
  for (const pump of pumps.splice(0)) await pump.stop();
  await t.db.execute(sql`delete from local_dispatches`);
  received = [];
  answer = () => 200;
  inFlightPeak = 0;
});
afterAll(async () => {
  for (const pump of pumps) await pump.stop();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await t?.close();
});

const pump = async (options: { deliveryTimeoutMs?: number } = {}) => {
  const p = await startLocalDispatchPump({
    db: t.db,
    baseUrl: url,
    cronSecret: SECRET,
    pollMs: 20,
    ...options,
  });
  pumps.push(p);
  return p;
};

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("local dispatcher", () => {
  it("keeps a delayed call in the database and delivers it once, when due, with the cron secret", async () => {
    const first = await dispatchInternal(t.db, env, {
      path: "/internal/x",
      body: { n: 1 },
      dedupeId: "d-1",
      delaySeconds: 1,
    });
    const again = await dispatchInternal(t.db, env, {
      path: "/internal/x",
      body: { n: 1 },
      dedupeId: "d-1",
      delaySeconds: 1,
    });
    expect(first).toEqual({ mode: "local", deduplicated: false });
    expect(again).toEqual({ mode: "local", deduplicated: true });
    // Nothing runs in this process yet: the call is a row, not a timer.
    const [row] = await queryRows<{ path: string; delivered_at: unknown }>(
      t.db,
      sql`select path, delivered_at from local_dispatches`,
    );
    expect(row).toMatchObject({ path: "/internal/x", delivered_at: null });
    const started = Date.now();
    await pump();
    await until("the delivery", () => received.length === 1);
    expect(received[0]!.at - started).toBeGreaterThanOrEqual(700);
    expect(received[0]).toMatchObject({ path: "/internal/x", body: { n: 1 }, secret: SECRET });
    await until(
      "delivered",
      async () =>
        (await queryRows(t.db, sql`select 1 from local_dispatches where delivered_at is not null`)).length ===
        1,
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(received.length).toBe(1);
  });

  it("a call in flight when its pump died is delivered again by the next pump", async () => {
    answer = () => "hang";
    const dying = await pump({ deliveryTimeoutMs: 60_000 });
    await dispatchInternal(t.db, env, { path: "/internal/y", body: {}, dedupeId: "d-2" });
    await until("the first delivery", () => received.length === 1);
    // The process is gone: its pump stops polling and its request never gets an answer.
    void dying.stop();
    pumps.splice(pumps.indexOf(dying), 1);
    answer = () => 200;
    await pump();
    await until("the redelivery", () => received.length === 2);
    await until(
      "delivered",
      async () =>
        (await queryRows(t.db, sql`select 1 from local_dispatches where delivered_at is not null`)).length ===
        1,
    );
    const [row] = await queryRows<{ attempts: number; delivered: boolean }>(
      t.db,
      sql`select attempts, delivered_at is not null as delivered from local_dispatches where dedupe_id = 'd-2'`,
    );
    expect(row).toMatchObject({ attempts: 2, delivered: true });
  });

  it("retries a failed delivery with back-off, and gives up after the message's retries", async () => {
    answer = () => 500;
    await dispatchInternal(t.db, env, { path: "/internal/z", body: {}, dedupeId: "d-3", retries: 1 });
    await pump();
    await until("two tries", () => received.length === 2, 15_000);
    await until(
      "given up",
      async () =>
        (await queryRows(t.db, sql`select 1 from local_dispatches where failed_at is not null`)).length === 1,
    );
    expect(received[1]!.at - received[0]!.at).toBeGreaterThanOrEqual(1_500);
    const [row] = await queryRows<{ attempts: number; last_status: number }>(
      t.db,
      sql`select attempts, last_status from local_dispatches`,
    );
    expect(row).toMatchObject({ attempts: 2, last_status: 500 });
  });

  it("delivers calls that share a flow-control key one at a time, others side by side", async () => {
    for (let i = 0; i < 4; i++)
      await dispatchInternal(t.db, env, {
        path: `/internal/run/${i}`,
        body: {},
        dedupeId: `f-${i}`,
        flowControlKey: "run-1",
      });
    await pump();
    await until("all four", () => received.length === 4);
    expect(inFlightPeak).toBe(1);
    expect(received.map((r) => r.path)).toEqual([
      "/internal/run/0",
      "/internal/run/1",
      "/internal/run/2",
      "/internal/run/3",
    ]);
    received = [];
    inFlightPeak = 0;
    for (let i = 0; i < 4; i++)
      await dispatchInternal(t.db, env, { path: `/internal/free/${i}`, body: {}, dedupeId: `g-${i}` });
    await until("all four free", () => received.length === 4);
    expect(inFlightPeak).toBeGreaterThan(1);
  });
});
