import { describe, expect, it } from "vitest";
import { preparedStatementsAllowed } from "@/db/client";

// Prepared statements halve the round trips of every statement with parameters (db/client.ts), but a
// transaction pooler may run a session's next statement on a server connection that never saw it.
describe("preparedStatementsAllowed", () => {
  it("prepares on a direct connection or a session pooler", () => {
    expect(preparedStatementsAllowed("postgres://u@127.0.0.1:5432/db")).toBe(true);
    expect(preparedStatementsAllowed("postgres://u:p@db.abc.supabase.co/postgres")).toBe(true);
    expect(preparedStatementsAllowed("postgres://u:p@aws-0-eu-west-1.pooler.supabase.com:5432/postgres")).toBe(true);
  });

  it("does not through a transaction pooler: Supabase's port 6543, or pgbouncer=true", () => {
    expect(preparedStatementsAllowed("postgres://u:p@aws-0-eu-west-1.pooler.supabase.com:6543/postgres")).toBe(false);
    expect(preparedStatementsAllowed("postgres://u:p@pgbouncer.internal:5432/app?pgbouncer=true")).toBe(false);
  });

  it("DATABASE_PREPARED_STATEMENTS overrides the guess either way", () => {
    expect(preparedStatementsAllowed("postgres://u@127.0.0.1:5432/db", "false")).toBe(false);
    expect(preparedStatementsAllowed("postgres://u@host:6543/db", "true")).toBe(true);
  });
});
