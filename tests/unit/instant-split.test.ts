import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { instantFee, splitInstant } from "../../lib/instant-payouts";

// The fee and where an instant payout's money comes from: integer cents, the minimum fee, and a split
// that never takes more from a location than it holds.

const env = { INSTANT_PAYOUT_FEE_PERCENT: 1.5, INSTANT_PAYOUT_FEE_MIN_CENTS: 50 };

describe("instant payout fee and split", () => {
  it("the fee is the percent in whole cents (half away from zero), at least the minimum", () => {
    expect(instantFee(10_000, env)).toBe(150);
    expect(instantFee(2_000, env)).toBe(50);
    expect(instantFee(3_333, env)).toBe(50);
    expect(instantFee(3_367, env)).toBe(51); // 50.505 -> 51
    expect(instantFee(18_450, env)).toBe(277); // 276.75 -> 277
    expect(instantFee(1_000_000, { ...env, INSTANT_PAYOUT_FEE_PERCENT: 0 })).toBe(50);
  });

  it("takes the fee from the platform first, the payout from the connected account first, within what each holds", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 2_000_000 }),
        (platform, connected, wanted) => {
          const amount = Math.min(wanted, platform + connected);
          const fee = instantFee(amount, env);
          fc.pre(amount > fee);
          const s = splitInstant({ platform, connected }, amount, fee);
          const fromConnected = s.netCents - s.transferCents + s.feeDebitCents;
          const fromPlatform = s.transferCents + s.feeOnPlatform;
          expect(s.netCents + s.feeOnPlatform + s.feeDebitCents).toBe(amount);
          expect(fromConnected + fromPlatform).toBe(amount);
          for (const part of [s.transferCents, s.feeOnPlatform, s.feeDebitCents, fromConnected])
            expect(part).toBeGreaterThanOrEqual(0);
          expect(fromConnected).toBeLessThanOrEqual(connected);
          expect(fromPlatform).toBeLessThanOrEqual(platform);
          expect(s.feeOnPlatform).toBe(Math.min(fee, platform));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
