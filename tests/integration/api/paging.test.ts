import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listPayees } from "@/lib/payees/admin-crud";
import { listReplayEvents } from "@/lib/webhooks/replays";
import { replayListQuery } from "@/lib/webhooks/replay-schemas";
import { createTestDb, type TestDb } from "../../support/db";

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(() => t.close());

describe("keyset pages of the admin lists", () => {
  it("never lose a row written in the same millisecond as the last row of a page", async () => {
    // Three payees within one millisecond, microseconds apart, ids in an order that differs from time.
    await t.db.execute(sql`insert into payees (id, display_name, email, created_at) values
      ('00000000-0000-4000-8000-000000000003', 'First', 'first@example.com', '2026-11-20T10:00:00.123100Z'),
      ('00000000-0000-4000-8000-000000000001', 'Second', 'second@example.com', '2026-11-20T10:00:00.123200Z'),
      ('00000000-0000-4000-8000-000000000002', 'Third', 'third@example.com', '2026-11-20T10:00:00.123300Z')`);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listPayees(t.db, { limit: 1, cursor });
      seen.push(...page.data.map((p) => p.displayName));
      expect(page.data[0]).not.toHaveProperty("cursorAt");
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(["Third", "Second", "First"]);
  });

  it("the replay list too, keyed on received_at", async () => {
    await t.db.execute(sql`insert into processor_events (event_id, type, payload, payload_sha256, status, received_at) values
      ('evt_a', 'payout.paid', '{}', 'a', 'failed', '2026-11-20T10:00:00.123100Z'),
      ('evt_b', 'payout.paid', '{}', 'b', 'failed', '2026-11-20T10:00:00.123200Z'),
      ('evt_c', 'payout.paid', '{}', 'c', 'failed', '2026-11-20T10:00:00.123300Z')`);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listReplayEvents(t.db, replayListQuery.parse({ limit: 1, cursor }));
      seen.push(...page.data.map((e) => e.eventId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(["evt_c", "evt_b", "evt_a"]);
  });
});
