import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatMoney, percentOf, toCents } from "../../lib/money";

describe("money", () => {
  it("takes a percentage in whole cents, rounding half away from zero", () => {
    expect(percentOf(5000, 10)).toBe(500);
    expect(percentOf(999, 10)).toBe(100);
    expect(percentOf(995, 0.5)).toBe(5);
    expect(percentOf(-995, 10)).toBe(-100);
    expect(percentOf(1234, 0)).toBe(0);
  });

  it("never returns a fraction and never exceeds the amount", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 11 }), fc.integer({ min: 0, max: 10_000 }), (amount, bp) => {
        const fee = percentOf(amount, bp / 100);
        expect(Number.isSafeInteger(fee)).toBe(true);
        expect(fee).toBeGreaterThanOrEqual(0);
        expect(fee).toBeLessThanOrEqual(amount);
      }),
    );
  });

  it("reads cents from either driver and refuses anything that is not whole", () => {
    expect(toCents("4500")).toBe(4500);
    expect(toCents(4500n)).toBe(4500);
    expect(toCents(null)).toBe(0);
    expect(() => toCents("45.5")).toThrow();
    expect(() => toCents(2 ** 60)).toThrow();
  });

  it("formats for people", () => {
    expect(formatMoney(4500, "usd")).toBe("$45.00");
    expect(formatMoney(1500, "jpy")).toBe("¥1,500");
  });
});
