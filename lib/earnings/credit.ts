import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { Actor } from "../actor";
import { type AuditEntry, recordAudit } from "../audit";
import { openSystemHold } from "../escrow/system-holds";
import { postLedgerTransaction } from "../ledger";
import { percentOf } from "../money";
import { earningKey } from "./lookup";

export type DestinationChargeEarning = {
  paymentIntentId: string;
  chargeId: string | null;
  /** acct_... the charge's funds went to (transfer_data.destination) */
  stripeAccountId: string;
  amountReceivedCents: number;
  /** application_fee_amount: Stripe transfers the whole charge, then collects this fee from it. */
  applicationFeeCents: number;
  /** transfer_data.amount: Stripe transfers exactly this, and the platform keeps the rest. */
  transferAmountCents: number | null;
  currency: string;
  effectiveAt: Date;
};

export type EarningResult =
  | { outcome: "unknown_account" }
  | { outcome: "nothing_received" }
  | { outcome: "credited" | "already_credited"; payeeId: string; netCents: number; reserveCents: number };

/**
 * A destination charge paid a payee's connected account: ONE posting credits the gross against
 * stripe_clearing, the platform's share into fees (the application fee, or what the charge kept
 * back beyond transfer_data.amount), the rolling reserve (PAYOUT_RESERVE_PERCENT of the net)
 * straight into the payee's held, and the rest into available, both on the connected account where
 * Stripe put them (the payout run only pays them out, no transfer). Crediting only ever adds to the
 * payee's buckets, so a payee whose available is negative (after a refund or a lost dispute) can
 * still be credited. The reserve's escrow hold points at this posting (it is what funded it) and is
 * released by the escrow-releases sweep PAYOUT_RESERVE_DAYS after the charge (effectiveAt).
 * Keyed by the payment intent: a second call writes nothing.
 */
export async function creditDestinationCharge(
  db: Db,
  earning: DestinationChargeEarning,
  options: { actor: Actor; reservePercent: number; reserveDays: number },
): Promise<EarningResult> {
  const [account] = await queryRows<{ payee_id: string }>(
    db,
    sql`select payee_id from connected_accounts where stripe_account_id = ${earning.stripeAccountId}`,
  );
  if (!account) return { outcome: "unknown_account" };
  const payeeId = account.payee_id;
  const gross = earning.amountReceivedCents;
  if (gross <= 0) return { outcome: "nothing_received" };
  // What the connected account keeps, in Stripe's numbers for either model of destination charge:
  // the stated transfer, or the whole charge less the application fee Stripe collects back.
  const net = earning.transferAmountCents ?? gross - Math.min(earning.applicationFeeCents, gross);
  const fee = gross - net;
  const reserve = percentOf(net, options.reservePercent);
  const payable = net - reserve;

  const posted = await postLedgerTransaction(db, {
    idempotencyKey: earningKey(earning.paymentIntentId),
    kind: "earning",
    description: `Destination charge ${earning.paymentIntentId}`,
    currency: earning.currency,
    payeeId,
    sourceType: "payment_intent",
    sourceId: earning.paymentIntentId,
    metadata: {
      payment_intent: earning.paymentIntentId,
      charge: earning.chargeId,
      currency: earning.currency,
      gross_cents: gross,
      application_fee_cents: fee,
      reserve_cents: reserve,
      stripe_account: earning.stripeAccountId,
    },
    effectiveAt: earning.effectiveAt,
    // Stripe shows the charge as: on the platform, the charge, its transfer and the fee collected back
    // (net: the fee); on the connected account, the payment less the fee.
    stripeRefs: earning.chargeId
      ? [
          { account: "platform", object: earning.chargeId, amount: fee },
          { account: earning.stripeAccountId, object: earning.chargeId, amount: net },
        ]
      : [],
    lines: [
      { kind: "stripe_clearing", amount: -gross },
      // On the payee's connected account: the destination charge put it there.
      ...(payable > 0 ? [{ payeeId, kind: "available" as const, location: "connected" as const, amount: payable }] : []),
      ...(reserve > 0 ? [{ payeeId, kind: "held" as const, location: "connected" as const, amount: reserve }] : []),
      ...(fee > 0 ? [{ kind: "fees" as const, amount: fee }] : []),
    ],
  });
  if (!posted.created) return { outcome: "already_credited", payeeId, netCents: net, reserveCents: reserve };

  const audit: AuditEntry = {
    actor: options.actor,
    action: "earning.credited",
    entityType: "payee",
    entityId: payeeId,
    after: { paymentIntent: earning.paymentIntentId, netCents: net, feeCents: fee, reserveCents: reserve },
  };
  if (reserve > 0) {
    // The hold's audit row and this one go in one insert.
    await openSystemHold(db, {
      payeeId,
      kind: "rolling_reserve",
      sourceRef: earning.paymentIntentId,
      amountCents: reserve,
      currency: earning.currency,
      reason: `Rolling reserve on ${earning.paymentIntentId}`,
      releaseAt: new Date(earning.effectiveAt.getTime() + options.reserveDays * 86_400_000),
      effectiveAt: earning.effectiveAt,
      fundedByTransactionId: posted.transactionId,
      actor: options.actor,
      audits: [audit],
    });
  } else {
    await recordAudit(db, audit);
  }
  return { outcome: "credited", payeeId, netCents: net, reserveCents: reserve };
}
