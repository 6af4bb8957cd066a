import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { payees, payouts } from "../../../db/schema";
import { loadEnv } from "../../../lib/env";
import { payoutHealth } from "../../../lib/payouts/health";
import { createTestDb, type TestDb } from "../../support/db";

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(() => t.close());

describe("health: failures in the last 7 days", () => {
  it("counts every failure in the window, while listing only the newest 100", async () => {
    const [payee] = await t.db
      .insert(payees)
      .values({ displayName: "F", email: "f@example.com" })
      .returning();
    await t.db.insert(payouts).values(
      Array.from({ length: 130 }, () => ({
        payeeId: payee!.id,
        amountCents: 1000,
        currency: "usd",
        status: "failed" as const,
        failureCode: "account_closed",
      })),
    );
    const health = await payoutHealth(t.db, loadEnv({}));
    if (health.database !== "ok") throw new Error("database unreachable");
    expect(health.failuresLast7Days).toBe(130);
    expect(health.recentFailures).toHaveLength(100);
    expect(health.recentFailures[0]).not.toHaveProperty("total");
  });
});
