import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { payees } from "@/db/schema";
import { section } from "@/lib/dashboard/section";
import { errorText, reportError, scrubSentryEvent, statementName } from "@/lib/observability/log";
import { createTestDb, type TestDb } from "../../support/db";

// Issue 11, item 7: a failed query's log line carried all its parameters (payees' emails and
// names), through drizzle's "Failed query: ... params: ..." message, and Postgres' own message or
// detail can quote a value too. Logged now: the statement's name and Postgres' code.

const SECRETS = ["bob@example.com", "Bob Secret", "x1"];

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
  await t.db
    .insert(payees)
    .values({ displayName: "Alice Secret", email: "alice@example.com", externalRef: "x1" });
});
afterAll(() => t.close());

const errorLines = vi.spyOn(console, "error").mockImplementation(() => {});
afterEach(() => errorLines.mockClear());

async function failure(query: () => Promise<unknown>): Promise<unknown> {
  return query().then(
    () => expect.unreachable(),
    (error: unknown) => error,
  );
}
const duplicatePayee = () =>
  failure(() =>
    t.db.insert(payees).values({ displayName: "Bob Secret", email: "bob@example.com", externalRef: "x1" }),
  );
const badUuid = () =>
  failure(() => t.db.execute(sql`select * from payees where id = ${"bob@example.com"}::uuid`));

function expectNoPersonalData(text: string) {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

describe("a failed query in the log", () => {
  it("is its statement's name and Postgres' code, not its parameters", async () => {
    const unique = await duplicatePayee();
    expect(String((unique as Error).message)).toContain("bob@example.com"); // what drizzle says
    reportError(unique, { where: "test" });
    expect(errorLines).toHaveBeenCalledTimes(1);
    const logged = String(errorLines.mock.calls[0]![0]);
    expectNoPersonalData(logged);
    const entry = JSON.parse(logged) as Record<string, string>;
    expect(entry).toMatchObject({
      level: "error",
      statement: "insert payees",
      code: "23505",
      constraint: "payees_external_ref_key",
    });
    expect(entry.msg).toBe("query failed (insert payees): Postgres 23505 on payees_external_ref_key");
    expect(entry.stack).toMatch(/^DatabaseError: query failed/);

    // Postgres' own message quotes the value here ("invalid input syntax for type uuid: ...").
    const syntax = await badUuid();
    reportError(syntax);
    expectNoPersonalData(String(errorLines.mock.calls[1]![0]));
    expect(errorText(syntax)).toBe("query failed (select payees): Postgres 22P02");
  });

  it("and in a page section's error box", async () => {
    const read = await section("payees", () =>
      t.db.insert(payees).values({ displayName: "Bob Secret", email: "bob@example.com", externalRef: "x1" }),
    );
    expect(read.ok).toBe(false);
    expectNoPersonalData(JSON.stringify(read));
    expectNoPersonalData(String(errorLines.mock.calls[0]![0]));
  });

  it("and in what Sentry receives through onRequestError", () => {
    const event = scrubSentryEvent({
      exception: {
        values: [
          { type: "PostgresError", value: 'invalid input syntax for type uuid: "bob@example.com"' },
          {
            type: "Error",
            value: 'Failed query: select * from "payees" where "id" = $1\nparams: bob@example.com',
          },
        ],
      },
    });
    expect(event.exception.values).toEqual([
      { type: "DatabaseError", value: "query failed (select payees)" },
    ]);
  });

  it("names statements by verb and first table", () => {
    expect(statementName('insert into "payees" ("id") values ($1)')).toBe("insert payees");
    expect(statementName("update payout_runs set status = $1")).toBe("update payout_runs");
    expect(statementName("with ins as (insert into processor_events values ($1)) select * from ins")).toBe(
      "with processor_events",
    );
    expect(statementName("select 1")).toBe("select");
  });
});
