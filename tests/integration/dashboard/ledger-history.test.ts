import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { payees } from "../../../db/schema";
import { CursorError, encodeCursor } from "../../../db/paging";
import { listPayeeLedgerHistory } from "../../../lib/dashboard/ledger-history";
import { postLedgerTransactions } from "../../../lib/ledger";
import type { PostingInput } from "../../../lib/ledger/types";
import { createTestDb, type TestDb } from "../../support/db";

let t: TestDb;
let payeeId: string;
let otherPayeeId: string;

const earning = (payee: string, key: string, amount: number): PostingInput => ({
  idempotencyKey: key,
  kind: "earning",
  description: `earning ${key}`,
  currency: "usd",
  payeeId: payee,
  lines: [
    { kind: "stripe_clearing", amount: -amount },
    { payeeId: payee, kind: "available", amount: amount - amount / 10 },
    { kind: "fees", amount: amount / 10 },
  ],
});

beforeAll(async () => {
  t = await createTestDb();
  const rows = await t.db
    .insert(payees)
    .values([
      { displayName: "Ada", email: "ada@example.com" },
      { displayName: "Bo", email: "bo@example.com" },
    ])
    .returning();
  payeeId = rows[0]!.id;
  otherPayeeId = rows[1]!.id;
  // 60 earnings in three batches: every batch shares one created_at, so pages must break ties by id.
  for (let b = 0; b < 3; b++) {
    await postLedgerTransactions(
      t.db,
      Array.from({ length: 20 }, (_, i) => earning(payeeId, `e-${b}-${i}`, 1_000 * (b * 20 + i + 1))),
    );
  }
  await postLedgerTransactions(t.db, [
    {
      idempotencyKey: "payout-1",
      kind: "payout_planned",
      description: "payout planned",
      currency: "usd",
      payeeId,
      lines: [
        { payeeId, kind: "available", amount: -5_000 },
        { payeeId, kind: "in_transit", amount: 5_000 },
      ],
    },
    earning(otherPayeeId, "other-1", 10_000),
  ]);
});
afterAll(() => t.close());

describe("payee ledger history", () => {
  it("pages through every transaction once, newest first, with no other payee's lines", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await listPayeeLedgerHistory(t.db, payeeId, { limit: 25, cursor });
      seen.push(...page.lines.map((l) => l.transactionId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(61);
    expect(new Set(seen).size).toBe(61);
  });

  it("says what each transaction did to the payee's buckets", async () => {
    const { lines } = await listPayeeLedgerHistory(t.db, payeeId, { limit: 1 });
    expect(lines[0]).toMatchObject({
      kind: "payout_planned",
      currency: "usd",
      net: 0,
      buckets: { available: -5_000, in_transit: 5_000 },
    });
    const older = await listPayeeLedgerHistory(t.db, payeeId, { limit: 100 });
    const last = older.lines.find((l) => l.description === "earning e-0-0")!;
    // 1,000 gross less the 10 % fee: only the payee's own entry counts, not clearing or fees.
    expect(last).toMatchObject({ net: 900, buckets: { available: 900 } });
  });

  it("refuses a malformed cursor (as every keyset list does) and caps the page size", async () => {
    const read = (cursor: string) => listPayeeLedgerHistory(t.db, payeeId, { limit: 5, cursor });
    await expect(read("not-a-cursor")).rejects.toBeInstanceOf(CursorError);
    await expect(
      read(encodeCursor({ at: "2026-01-01'; drop table payees; --", id: payeeId })),
    ).rejects.toBeInstanceOf(CursorError);
    // Shapes Postgres would refuse with an error of its own (a 500) never reach it.
    await expect(read(encodeCursor({ at: "0000-01-01 00:00:00+00", id: payeeId }))).rejects.toBeInstanceOf(
      CursorError,
    );
    await expect(read(encodeCursor({ at: "2026-02-30 00:00:00+00", id: payeeId }))).rejects.toBeInstanceOf(
      CursorError,
    );
    expect((await listPayeeLedgerHistory(t.db, payeeId, { limit: 5 })).lines).toHaveLength(5);
    expect((await listPayeeLedgerHistory(t.db, payeeId, { limit: 1_000 })).lines).toHaveLength(61);
  });

  it("words each line for the payee, and leaves out bookkeeping that moved none of their money", async () => {
    const { lines } = await listPayeeLedgerHistory(t.db, payeeId, { limit: 100 });
    expect(lines[0]).toMatchObject({ kind: "payout_planned", label: "Payout started" });
    expect(lines.find((l) => l.kind === "earning")?.label).toBe("Payment received");

    const [third] = await t.db
      .insert(payees)
      .values({ displayName: "Cy", email: "cy@example.com" })
      .returning();
    await postLedgerTransactions(t.db, [
      earning(third!.id, "third-1", 2_000),
      {
        idempotencyKey: "third-opening",
        kind: "funds_location_opening",
        description: "opening balance by location",
        currency: "usd",
        payeeId: third!.id,
        lines: [
          { payeeId: third!.id, kind: "available", amount: -500 },
          { payeeId: third!.id, kind: "held", amount: 500 },
        ],
      },
    ]);
    const history = await listPayeeLedgerHistory(t.db, third!.id, { limit: 100 });
    expect(history.lines.map((l) => l.kind)).toEqual(["earning"]);
    expect(history.lines.map((l) => l.label)).toEqual(["Payment received"]);
  });

  it("is empty for a payee with no ledger", async () => {
    const page = await listPayeeLedgerHistory(t.db, "00000000-0000-4000-8000-000000000000", {});
    expect(page).toEqual({ lines: [], nextCursor: null });
  });
});
