import type Stripe from "stripe";
import type { Db } from "../../db/client";
import { postLedgerTransaction } from "../ledger";
import type { StripeGateway } from "../stripe/gateway";
import type { EarningRef } from "./lookup";

export type RecoveryGateway = Pick<StripeGateway, "createTransferReversal" | "listTransferReversals">;

/** The key of the posting of one reversal of a destination charge's transfer. */
export const chargeReversalKey = (reversalId: string) => `transfer_reversal:${reversalId}`;

/**
 * A reversal of a destination charge's transfer that came with no refund (the platform took money
 * back: a recovery, or by hand): Stripe's amount leaves the payee's connected account for the
 * platform, making good what the platform bore (`losses`). The payee may owe it.
 */
export async function postChargeReversal(
  db: Db,
  input: { earning: EarningRef; reversal: Pick<Stripe.TransferReversal, "id" | "amount" | "currency">; effectiveAt: Date; reason: string },
) {
  const { earning, reversal } = input;
  return postLedgerTransaction(db, {
    idempotencyKey: chargeReversalKey(reversal.id),
    kind: "transfer_reversed",
    description: `${input.reason}: ${reversal.id}`,
    currency: earning.currency,
    payeeId: earning.payeeId,
    sourceType: "transfer_reversal",
    sourceId: reversal.id,
    metadata: { charge: earning.chargeId, payment_intent: earning.paymentIntentId, transfer_reversal: reversal.id },
    effectiveAt: input.effectiveAt,
    allowNegative: true,
    lines: [
      { payeeId: earning.payeeId, kind: "available", location: "connected", amount: -reversal.amount },
      { kind: "losses", amount: reversal.amount },
    ],
    stripeRefs: [
      { account: "platform", object: reversal.id, amount: reversal.amount },
      { account: earning.stripeAccountId, object: reversal.id, amount: -reversal.amount },
    ],
  });
}

/**
 * Take the payee's share of money the platform gave back (a refund made without reverse_transfer, a
 * lost dispute) from their connected account, when PAYEE_RECOVERY_POLICY says so: a Stripe transfer
 * reversal of the charge's transfer, keyed by what caused it, so a retry makes one. The share is the
 * part of `amount` the transfer carried (all of it when the whole charge was transferred); the ledger
 * then posts the amount Stripe reversed.
 */
export async function recoverFromPayee(
  db: Db,
  gateway: RecoveryGateway,
  input: {
    earning: EarningRef;
    charge: { transfer: string | null; amount: number; transferAmount: number };
    amount: number;
    idempotencyKey: string;
    reason: string;
    effectiveAt: Date;
  },
): Promise<{ recovered: number }> {
  if (!input.charge.transfer || input.charge.amount <= 0) return { recovered: 0 };
  // What the transfer still carries: refunds with reverse_transfer and earlier recoveries took some
  // back, and Stripe refuses a reversal beyond it. A reversal this cause already made (its answer
  // lost) is posted, not made again.
  let reversedSoFar = 0;
  const mine: Stripe.TransferReversal[] = [];
  for (let after: string | undefined; ; ) {
    const page = await gateway.listTransferReversals(input.charge.transfer, after);
    for (const r of page.data) {
      reversedSoFar += r.amount;
      if (r.metadata?.recovery_key === input.idempotencyKey) mine.push(r);
    }
    if (!page.has_more || page.data.length === 0) break;
    after = page.data.at(-1)!.id;
  }
  if (mine.length > 0) {
    for (const reversal of mine)
      await postChargeReversal(db, { earning: input.earning, reversal, effectiveAt: input.effectiveAt, reason: input.reason });
    return { recovered: mine.reduce((sum, r) => sum + r.amount, 0) };
  }
  const remaining = Math.max(0, input.charge.transferAmount - reversedSoFar);
  // What the platform cannot take back stays its loss (posted by the caller); the payee owes nothing more at Stripe.
  const share = Math.min(remaining, Math.round((input.amount * input.charge.transferAmount) / input.charge.amount));
  if (share <= 0) return { recovered: 0 };
  const reversal = await gateway.createTransferReversal({
    transferId: input.charge.transfer,
    amount: share,
    metadata: {
      reason: input.reason.slice(0, 450),
      payment_intent: input.earning.paymentIntentId,
      recovery_key: input.idempotencyKey,
    },
    idempotencyKey: input.idempotencyKey,
  });
  await postChargeReversal(db, { earning: input.earning, reversal, effectiveAt: input.effectiveAt, reason: input.reason });
  return { recovered: reversal.amount };
}
