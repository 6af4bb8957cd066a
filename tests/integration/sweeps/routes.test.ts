import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as completeRoute } from "@/app/internal/sweeps/complete-expired-guarantees/route";
import { loadEnv } from "@/lib/env";
import type { InternalDispatch } from "@/lib/scheduler/dispatch";
import { invokeSweep } from "@/lib/sweep-endpoints/invoke";
import { createTestDb, type TestDb } from "../../support/db";
import { CRON_SECRET, internalRequest } from "../payouts/helpers";
import { makeExpiredPlacement, makePayee } from "./helpers";
import { configureApp } from "../../support/app";

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
  process.env.CRON_SECRET_KEY = CRON_SECRET;
  configureApp(t.db);
});
afterAll(() => t.close());

describe("POST /internal/sweeps/*", () => {
  it("refuses without the internal secret and answers the four counts with it", async () => {
    const params = { params: Promise.resolve({}) } as never;
    const payee = await makePayee(t.db);
    await makeExpiredPlacement(t.db, { payeeId: payee.id, customer: "cus_r" });
    const denied = await completeRoute(
      internalRequest("POST", "/internal/sweeps/complete-expired-guarantees", {}, null),
      params,
    );
    expect(denied.status).toBe(401);
    const ok = await completeRoute(
      internalRequest("POST", "/internal/sweeps/complete-expired-guarantees", {}),
      params,
    );
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ processed: 1, skipped: 0, failed: 0, remaining: 0 });
    const bad = await completeRoute(
      internalRequest("POST", "/internal/sweeps/complete-expired-guarantees", { continuation: -1 }),
      params,
    );
    expect(bad.status).toBe(400);
  });

  it("out of time with work left: hands the rest to a continuation through the dispatcher", async () => {
    const payee = await makePayee(t.db, "Many Mo");
    for (let i = 0; i < 3; i++) await makeExpiredPlacement(t.db, { payeeId: payee.id, customer: "cus_r" });
    const sent: InternalDispatch[] = [];
    const result = await invokeSweep(
      t.db,
      loadEnv(),
      "complete-expired-guarantees",
      { continuation: 2, chainId: "c1" },
      {
        batchSize: 1,
        maxBatches: 1,
        dispatch: async (_db, _env, message) => {
          sent.push(message);
          return { mode: "local" };
        },
      },
    );
    expect(result).toMatchObject({ processed: 1, remaining: 2, continued: true });
    expect(sent).toEqual([
      expect.objectContaining({
        path: "/internal/sweeps/complete-expired-guarantees",
        body: { continuation: 3, chainId: "c1" },
        dedupeId: "sweep.complete-expired-guarantees.c1.3",
      }),
    ]);
  });
});
