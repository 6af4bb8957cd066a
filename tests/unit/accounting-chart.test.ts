import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { defaultChartOfAccounts, glAccountOf, ledgerAccountSlots } from "@/lib/chart-of-accounts";
import defaultMap from "@/lib/chart-of-accounts/gl-map.default.json";
import { periodBounds } from "@/lib/accounting/period";
import { EnvError, loadEnv } from "@/lib/env";
import { toDecimalString } from "@/lib/money";
import { journalQuery, trialBalanceQuery } from "@/lib/schemas/accounting";

// The chart of accounts comes from configuration and is checked at start (lib/env.ts): every ledger
// account mapped, nothing unknown named, one name per code. The journal's query rules and its
// decimal amounts.

const problemsOf = (env: Record<string, string>): string => {
  try {
    loadEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvError);
    return (error as Error).message;
  }
  throw new Error("loadEnv accepted it");
};
const without = (key: string) => Object.fromEntries(Object.entries(defaultMap).filter(([k]) => k !== key));

describe("chart of accounts", () => {
  it("the default map books every ledger account the schema allows", () => {
    const chart = loadEnv({}).chartOfAccounts;
    expect(chart.accounts.size).toBe(ledgerAccountSlots().length);
    expect(glAccountOf(chart, "platform", "stripe_fees", "platform")).toEqual({
      code: "5100",
      name: "Stripe processing fees",
    });
    expect(glAccountOf(chart, "payee", "paid", "bank").code).toBe("2190");
    expect(defaultChartOfAccounts().accounts).toEqual(chart.accounts);
  });

  it("an override replaces the map whole; a payee bucket without a location covers every location", () => {
    const map = {
      ...without("payee.available.platform"),
      "payee.available.connected": undefined,
      "payee.available": { code: "2200", name: "Payables to creators" },
      "platform.fees": { code: "REV-01", name: "Commission" },
    };
    const chart = loadEnv({ ACCOUNTING_GL_MAP: JSON.stringify(map) }).chartOfAccounts;
    expect(glAccountOf(chart, "payee", "available", "platform")).toEqual({
      code: "2200",
      name: "Payables to creators",
    });
    expect(glAccountOf(chart, "payee", "available", "connected").code).toBe("2200");
    expect(glAccountOf(chart, "platform", "fees", "platform")).toEqual({
      code: "REV-01",
      name: "Commission",
    });
    expect(chart.source).toBe("ACCOUNTING_GL_MAP");
  });

  it("an unmapped ledger account stops the start, named with the keys that would map it", () => {
    const message = problemsOf({ ACCOUNTING_GL_MAP: JSON.stringify(without("platform.stripe_fees")) });
    expect(message).toContain("ACCOUNTING_GL_MAP: ledger account platform.stripe_fees has no GL account");
    const payee = problemsOf({ ACCOUNTING_GL_MAP: JSON.stringify(without("payee.held.connected")) });
    expect(payee).toContain(
      'ledger account payee.held.connected has no GL account (add "payee.held.connected" or "payee.held")',
    );
  });

  it("refuses unknown keys, bad codes and names, one code with two names, bad JSON, and both variables", () => {
    expect(
      problemsOf({
        ACCOUNTING_GL_MAP: JSON.stringify({ ...defaultMap, "platform.feez": { code: "1", name: "x" } }),
      }),
    ).toContain('"platform.feez" is not a ledger account');
    expect(
      problemsOf({
        ACCOUNTING_GL_MAP: JSON.stringify({ ...defaultMap, "platform.fees": { code: "", name: "Fees" } }),
      }),
    ).toContain('"platform.fees" needs a "code"');
    expect(
      problemsOf({ ACCOUNTING_GL_MAP: JSON.stringify({ ...defaultMap, "platform.fees": { code: "4000" } }) }),
    ).toContain('"platform.fees" needs a "name"');
    expect(
      problemsOf({
        ACCOUNTING_GL_MAP: JSON.stringify({
          ...defaultMap,
          "platform.losses": { code: "4000", name: "Losses" },
        }),
      }),
    ).toMatch(/GL code 4000 has two names/);
    expect(problemsOf({ ACCOUNTING_GL_MAP: "{not json" })).toContain("ACCOUNTING_GL_MAP: is not valid JSON");
    expect(problemsOf({ ACCOUNTING_GL_MAP: "[]" })).toContain("ACCOUNTING_GL_MAP: must be a JSON object");
    expect(problemsOf({ ACCOUNTING_GL_MAP: "{}", ACCOUNTING_GL_MAP_FILE: "/x.json" })).toContain(
      "set one of them, not both",
    );
  });

  it("reads the override from a file, and says when it cannot", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "payrun-gl-"));
    const file = path.join(dir, "gl.json");
    writeFileSync(
      file,
      JSON.stringify({ ...defaultMap, "platform.adjustments": { code: "6000", name: "Manual corrections" } }),
    );
    const chart = loadEnv({ ACCOUNTING_GL_MAP_FILE: file }).chartOfAccounts;
    expect(glAccountOf(chart, "platform", "adjustments", "platform")).toEqual({
      code: "6000",
      name: "Manual corrections",
    });
    writeFileSync(file, JSON.stringify(without("payee.pending")));
    expect(problemsOf({ ACCOUNTING_GL_MAP_FILE: file })).toContain(
      `ACCOUNTING_GL_MAP_FILE (${file}): ledger account payee.pending.platform has no GL account`,
    );
    expect(problemsOf({ ACCOUNTING_GL_MAP_FILE: path.join(dir, "missing.json") })).toContain(
      "cannot be read (ENOENT)",
    );
  });
});

describe("journal rules", () => {
  it("amounts are decimal strings built from integer cents", () => {
    expect(toDecimalString(123456, "usd")).toBe("1234.56");
    expect(toDecimalString(-5, "eur")).toBe("-0.05");
    expect(toDecimalString(4500, "jpy")).toBe("4500");
    expect(toDecimalString(Number.MAX_SAFE_INTEGER, "usd")).toBe("90071992547409.91");
    expect(() => toDecimalString(1.5, "usd")).toThrow(RangeError);
  });

  it("a period is whole days in the books' time zone", () => {
    expect(periodBounds("2026-01-01", "2026-01-31", "UTC")).toEqual({
      start: new Date("2026-01-01T00:00:00Z"),
      end: new Date("2026-02-01T00:00:00Z"),
    });
    expect(periodBounds("2026-03-01", "2026-03-31", "America/New_York")).toEqual({
      start: new Date("2026-03-01T05:00:00Z"),
      end: new Date("2026-04-01T04:00:00Z"), // daylight saving time began on March 8
    });
    expect(periodBounds("2024-12-31", "2024-12-31", "UTC").end).toEqual(new Date("2025-01-01T00:00:00Z"));
  });

  it("queries: from not after to, at most 366 days, a currency ISO 4217 knows", () => {
    expect(journalQuery.safeParse({ from: "2024-01-01", to: "2024-12-31" }).success).toBe(true);
    expect(
      journalQuery.safeParse({ from: "2026-01-01", to: "2026-01-01", currency: "EUR" }).data?.currency,
    ).toBe("eur");
    expect(
      journalQuery.safeParse({ from: "2026-01-01", to: "2026-01-31", currency: "" }).data?.currency,
    ).toBeUndefined();
    expect(journalQuery.safeParse({ from: "2026-01-02", to: "2026-01-01" }).success).toBe(false);
    expect(journalQuery.safeParse({ from: "2025-01-01", to: "2026-01-01" }).success).toBe(true); // 366 days
    expect(journalQuery.safeParse({ from: "2025-01-01", to: "2026-01-02" }).success).toBe(false);
    expect(journalQuery.safeParse({ from: "2026-01-01", to: "2026-01-31", currency: "abc" }).success).toBe(
      false,
    );
    expect(trialBalanceQuery.safeParse({ at: "2026-01-31T12:00:00+02:00" }).success).toBe(true);
    expect(trialBalanceQuery.safeParse({ at: "2026-01-31 12:00" }).success).toBe(false);
  });
});
