import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { placements } from "@/db/schema";
import { backfillGuarantees } from "@/lib/placements/backfill-guarantees";
import { guaranteeExpiresAt } from "@/lib/placements/guarantee";
import { createTestDb, type TestDb } from "../../support/db";
import { makePayee } from "../sweeps/helpers";

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(() => t.close());

describe("guarantee expiry", () => {
  it("is start date + guarantee days at 00:00 in the payout time zone", () => {
    expect(guaranteeExpiresAt("2026-01-10", 30, "UTC").toISOString()).toBe("2026-02-09T00:00:00.000Z");
    expect(guaranteeExpiresAt("2026-01-10", 30, "America/New_York").toISOString()).toBe(
      "2026-02-09T05:00:00.000Z",
    );
    // Across the spring-forward change: midnight is still local midnight (EDT, UTC-4).
    expect(guaranteeExpiresAt("2026-03-01", 14, "America/New_York").toISOString()).toBe(
      "2026-03-15T04:00:00.000Z",
    );
    expect(guaranteeExpiresAt("2026-06-30", 1, "Asia/Tokyo").toISOString()).toBe("2026-06-30T15:00:00.000Z");
    expect(guaranteeExpiresAt("2026-02-28", 0, "Europe/London").toISOString()).toBe(
      "2026-02-28T00:00:00.000Z",
    );
  });

  it("the backfill fills only null rows, dry run first, and agrees with the TypeScript rule", async () => {
    const payee = await makePayee(t.db, "Old Olga");
    const zone = "America/New_York";
    const rows = [
      { startDate: "2025-03-01", guaranteeDays: 14 },
      { startDate: "2025-11-01", guaranteeDays: 90 },
      { startDate: "2025-07-04", guaranteeDays: 0 },
    ];
    const inserted = await t.db
      .insert(placements)
      .values(
        rows.map((r) => ({
          ...r,
          payeeId: payee.id,
          clientStripeCustomerId: "cus_old",
          feeCents: 1000,
          payeeShareCents: 500,
          currency: "usd",
        })),
      )
      .returning();
    const preset = new Date("2030-01-01T00:00:00Z");
    await t.db
      .insert(placements)
      .values({ ...inserted[0]!, id: undefined, guaranteeExpiresAt: preset, createdAt: undefined });

    const dry = await backfillGuarantees(t.db, { timeZone: zone, confirm: false });
    expect(dry).toMatchObject({ total: 3, changed: 0 });
    const [stillNull] = await queryRows<{ n: string | number }>(
      t.db,
      sql`select count(*) as n from placements where guarantee_expires_at is null`,
    );
    expect(Number(stillNull!.n)).toBe(3);

    const progress: string[] = [];
    const done = await backfillGuarantees(t.db, {
      timeZone: zone,
      confirm: true,
      batchSize: 2,
      onBatch: (n, total) => progress.push(`${n}/${total}`),
    });
    expect(done.changed).toBe(3);
    expect(progress).toEqual(["2/3", "3/3"]);
    for (const r of done.rows) {
      expect(r.guaranteeExpiresAt).toBe(guaranteeExpiresAt(r.startDate, r.guaranteeDays, zone).toISOString());
    }
    const dryAgain = await backfillGuarantees(t.db, { timeZone: zone, confirm: false });
    expect(dryAgain.total).toBe(0);
    const [kept] = await queryRows<{ n: string | number }>(
      t.db,
      sql`select count(*) as n from placements where guarantee_expires_at = ${preset.toISOString()}::timestamptz`,
    );
    expect(Number(kept!.n)).toBe(1);
  });
});
