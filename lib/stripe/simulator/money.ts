// Money arithmetic shared by the resources: integer minor units only, rounded the one way the
// simulator documents (docs/STRIPE_SIMULATOR.md, "Rounding").

/** One entry of a balance transaction's `fee_details`, as Stripe sends it. */
export interface FeeDetail {
  amount: number;
  application: string | null;
  currency: string;
  description: string | null;
  type: "stripe_fee" | "application_fee";
}

/** Stripe's processing fee on a charge: a rate in basis points plus a fixed amount. Off (0) by default. */
export interface ProcessingFee {
  percentBasisPoints: number;
  fixedCents: number;
}

export const NO_PROCESSING_FEE: ProcessingFee = { percentBasisPoints: 0, fixedCents: 0 };

/** The Connect application id the platform's fees are earned by (`application_fee.application`). */
export const PLATFORM_APPLICATION_ID = "ca_1SimPlatformApplication";

/** `numerator × multiplier / denominator`, rounded half up, in exact integer arithmetic. */
export function mulDivRoundHalfUp(numerator: number, multiplier: number, denominator: number): number {
  if (denominator <= 0) throw new Error("denominator must be positive");
  const product = BigInt(numerator) * BigInt(multiplier);
  const negative = product < 0n;
  const magnitude = negative ? -product : product;
  const rounded = (2n * magnitude + BigInt(denominator)) / (2n * BigInt(denominator));
  return Number(negative ? -rounded : rounded);
}

/**
 * The next slice of `total` owed when a proportion moves from `before/whole` to `after/whole`.
 *
 * Stripe documents proportional transfer reversals and application fee refunds ("reversed
 * proportionally to the amount being refunded"; "if a full charge refund is given, the full
 * application fee will be refunded") but publishes no rounding rule. Rounding the cumulative share
 * and taking the difference keeps every slice within a cent of the exact share and makes the
 * slices of a complete refund add up to exactly `total`, whatever the order and sizes of the parts.
 */
export function proportionalSlice(total: number, whole: number, before: number, after: number): number {
  return mulDivRoundHalfUp(total, after, whole) - mulDivRoundHalfUp(total, before, whole);
}

export function processingFeeCents(amount: number, fee: ProcessingFee): number {
  if (fee.percentBasisPoints === 0 && fee.fixedCents === 0) return 0;
  return mulDivRoundHalfUp(amount, fee.percentBasisPoints, 10_000) + fee.fixedCents;
}

export function stripeFeeDetails(
  amount: number,
  currency: string,
  description = "Stripe processing fees",
): FeeDetail[] {
  return amount === 0 ? [] : [{ amount, application: null, currency, description, type: "stripe_fee" }];
}

export function applicationFeeDetails(amount: number, currency: string): FeeDetail[] {
  return amount === 0
    ? []
    : [
        {
          amount,
          application: PLATFORM_APPLICATION_ID,
          currency,
          description: "Application fee",
          type: "application_fee",
        },
      ];
}
