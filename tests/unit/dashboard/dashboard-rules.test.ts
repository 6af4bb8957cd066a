import { describe, expect, it } from "vitest";
import { payoutFailureText, skipReasonText } from "../../../lib/dashboard/failure-reasons";
import { formatCents } from "../../../lib/dashboard/format";
import { nextCycleAt } from "../../../lib/dashboard/next-payout";

describe("formatCents", () => {
  it("formats integer cents without float rounding", () => {
    expect(formatCents(45_450, "usd")).toBe("$454.50");
    expect(formatCents(-5, "usd")).toBe("-$0.05");
    expect(formatCents(900_719_925_474_099, "usd")).toBe("$9,007,199,254,740.99");
    expect(formatCents(1_500, "jpy")).toBe("¥1,500");
  });
});

describe("failure reasons in plain words", () => {
  it("maps Stripe payout failure codes to sentences", () => {
    expect(payoutFailureText("account_closed")).toMatch(/bank account has been closed/);
    expect(payoutFailureText("no_account")).toMatch(/could not find this account/);
    expect(payoutFailureText("insufficient_funds")).toMatch(/Nothing is wrong on your side/);
  });
  it("falls back to Stripe's message, then to the code", () => {
    expect(payoutFailureText("brand_new_code", "Stripe says so")).toBe("Stripe says so");
    expect(payoutFailureText("brand_new_code")).toMatch(/brand new code/);
    expect(skipReasonText("below_threshold")).toMatch(/below the minimum/);
    expect(skipReasonText("paused")).toMatch(/paused/);
  });
});

describe("nextCycleAt", () => {
  it("is the next 1st or 15th at 06:00 in the payout time zone", () => {
    expect(nextCycleAt(new Date("2026-11-21T10:00:00Z"), "UTC")).toEqual({
      cycleDate: "2026-12-01",
      at: new Date("2026-12-01T06:00:00Z"),
    });
    expect(nextCycleAt(new Date("2026-11-15T05:59:59Z"), "UTC").cycleDate).toBe("2026-11-15");
    expect(nextCycleAt(new Date("2026-11-15T06:00:00Z"), "UTC").cycleDate).toBe("2026-12-01");
    expect(nextCycleAt(new Date("2026-12-20T00:00:00Z"), "UTC").cycleDate).toBe("2027-01-01");
  });
  it("uses the zone's wall clock (06:00 in New York is 11:00 UTC in winter)", () => {
    const next = nextCycleAt(new Date("2026-12-01T10:00:00Z"), "America/New_York");
    expect(next).toEqual({ cycleDate: "2026-12-01", at: new Date("2026-12-01T11:00:00Z") });
  });
});
