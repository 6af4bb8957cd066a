import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { escrowHolds } from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import { postLedgerTransaction } from "../ledger";
import { percentOf } from "../money";
import { earningKey } from "./lookup";

export type DestinationChargeEarning = {
  paymentIntentId: string;
  chargeId: string | null;
  /** acct_... the charge's funds went to (transfer_data.destination) */
  stripeAccountId: string;
  amountReceivedCents: number;
  applicationFeeCents: number;
  currency: string;
  effectiveAt: Date;
};

export type EarningResult =
  | { outcome: "unknown_account" }
  | { outcome: "nothing_received" }
  | { outcome: "credited" | "already_credited"; payeeId: string; netCents: number; reserveCents: number };

/**
 * A destination charge paid a payee's connected account: credit the payee amount received minus
 * the platform fee into available (the funds already sit on their account, so the payout run only
 * pays them out, no transfer), the fee into the platform's fees account, the gross against
 * stripe_clearing. Then hold the rolling reserve (PAYOUT_RESERVE_PERCENT of the earning) until
 * now + PAYOUT_RESERVE_DAYS. Keyed by the payment intent: a second call writes nothing.
 */
export async function creditDestinationCharge(
  db: Db,
  earning: DestinationChargeEarning,
  options: { actor: Actor; reservePercent: number; reserveDays: number; now: Date },
): Promise<EarningResult> {
  const [account] = await queryRows<{ payee_id: string }>(
    db,
    sql`select payee_id from connected_accounts where stripe_account_id = ${earning.stripeAccountId}`,
  );
  if (!account) return { outcome: "unknown_account" };
  const payeeId = account.payee_id;
  const gross = earning.amountReceivedCents;
  const fee = Math.min(earning.applicationFeeCents, gross);
  const net = gross - fee;
  if (gross <= 0) return { outcome: "nothing_received" };

  const lines = [
    { kind: "stripe_clearing" as const, amount: -gross },
    ...(net > 0 ? [{ payeeId, kind: "available" as const, amount: net }] : []),
    ...(fee > 0 ? [{ kind: "fees" as const, amount: fee }] : []),
  ];
  const posted = await postLedgerTransaction(db, {
    idempotencyKey: earningKey(earning.paymentIntentId),
    kind: "earning",
    description: `Destination charge ${earning.paymentIntentId}`,
    currency: earning.currency,
    payeeId,
    sourceType: "payment_intent",
    sourceId: earning.paymentIntentId,
    metadata: {
      funds_location: "connected_account",
      payment_intent: earning.paymentIntentId,
      charge: earning.chargeId,
      currency: earning.currency,
      gross_cents: gross,
      application_fee_cents: fee,
      stripe_account: earning.stripeAccountId,
    },
    effectiveAt: earning.effectiveAt,
    lines,
  });

  const reserve = percentOf(net, options.reservePercent);
  if (posted.created && reserve > 0) await holdRollingReserve(db, { ...earning, payeeId, reserve }, options);
  if (posted.created) {
    await recordAudit(db, {
      actor: options.actor,
      action: "earning.credited",
      entityType: "payee",
      entityId: payeeId,
      after: { paymentIntent: earning.paymentIntentId, netCents: net, feeCents: fee, reserveCents: reserve },
    });
  }
  return { outcome: posted.created ? "credited" : "already_credited", payeeId, netCents: net, reserveCents: reserve };
}

async function holdRollingReserve(
  db: Db,
  input: DestinationChargeEarning & { payeeId: string; reserve: number },
  options: { actor: Actor; reserveDays: number; now: Date },
): Promise<void> {
  const hold = await postLedgerTransaction(db, {
    idempotencyKey: `rolling_reserve:${input.paymentIntentId}`,
    kind: "hold",
    description: `Rolling reserve on ${input.paymentIntentId}`,
    currency: input.currency,
    payeeId: input.payeeId,
    sourceType: "payment_intent",
    sourceId: input.paymentIntentId,
    metadata: { hold_kind: "rolling_reserve", payment_intent: input.paymentIntentId },
    effectiveAt: input.effectiveAt,
    lines: [
      { payeeId: input.payeeId, kind: "available", amount: -input.reserve },
      { payeeId: input.payeeId, kind: "held", amount: input.reserve },
    ],
  });
  await db
    .insert(escrowHolds)
    .values({
      payeeId: input.payeeId,
      kind: "rolling_reserve",
      amountCents: input.reserve,
      currency: input.currency,
      reason: `Rolling reserve on ${input.paymentIntentId}`,
      sourceRef: input.paymentIntentId,
      releaseAt: new Date(options.now.getTime() + options.reserveDays * 86_400_000),
      createdBy: `${options.actor.type}:${options.actor.id}`,
      holdLedgerTransactionId: hold.transactionId,
    })
    .onConflictDoNothing({ target: [escrowHolds.kind, escrowHolds.sourceRef] });
}
