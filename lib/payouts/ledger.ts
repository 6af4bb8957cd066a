import type { Db } from "../../db/client";
import type { FundsLocation, Payout } from "../../db/schema";
import { type PostingLine, postLedgerTransaction } from "../ledger";
import { payoutKey, transferPostingKey } from "./keys";

// What a payout does to the payee's money, step by step, each posting keyed by the payout's
// generation so a retried call moves money once. The money follows Stripe:
//   planned      available -> in_transit, where it is (the connected account's part, and the part
//                on the platform still to be transferred)          (planning, set-based: plan.ts)
//   transferred  in_transit: platform -> connected                 (the transfer reached the account)
//   sent         in_transit: connected -> bank                     (Stripe's payout took it)
//   paid         in_transit (bank) -> paid                         (payout.paid)
//   reversed     back to available, wherever Stripe returned it    (a failure)

type PayoutMoney = Pick<
  Payout,
  "id" | "retries" | "payeeId" | "currency" | "amountCents" | "transferAmountCents" | "stripeTransferId" | "stripeAccountId"
>;

// What each step shows at Stripe, for reconciliation (ledger_stripe_refs): a transfer moves money
// from the platform's balance to the connected account's; a payout takes it off the connected
// account's (and a failed one puts it back). A payout's transfer and its reversals are one object
// (the transfer).
const onAccount = (p: PayoutMoney) => p.stripeAccountId ?? "unknown";

/** Where a payout's money is before its Stripe payout: on the connected account, and on the platform. */
export function unsentLocation(p: Pick<PayoutMoney, "amountCents" | "transferAmountCents" | "stripeTransferId">) {
  const platform = p.stripeTransferId ? 0 : p.transferAmountCents;
  return { connected: p.amountCents - platform, platform };
}

/** Lines moving `amount` parts between two kinds, per location, leaving out empty parts. */
function moveLines(
  payeeId: string,
  from: PostingLine["kind"],
  to: PostingLine["kind"],
  parts: { from: FundsLocation; to: FundsLocation; amount: number }[],
): PostingLine[] {
  return parts
    .filter((part) => part.amount !== 0)
    .flatMap((part) => [
      { payeeId, kind: from, location: part.from, amount: -part.amount } as PostingLine,
      { payeeId, kind: to, location: part.to, amount: part.amount } as PostingLine,
    ]);
}

const posting = (p: PayoutMoney, idempotencyKey: string) => ({
  idempotencyKey,
  currency: p.currency,
  payeeId: p.payeeId,
  sourceType: "payout",
  sourceId: p.id,
});

/** A retried payout is planned again: available -> in_transit where its money is (as planning does). */
export async function postPayoutPlanned(tx: Db, p: PayoutMoney, description: string) {
  const where = unsentLocation(p);
  return postLedgerTransaction(tx, {
    ...posting(p, payoutKey(p, "planned")),
    kind: "payout_planned",
    description,
    metadata: { transfer_amount_cents: p.transferAmountCents },
    lines: moveLines(p.payeeId, "available", "in_transit", [
      { from: "connected", to: "connected", amount: where.connected },
      { from: "platform", to: "platform", amount: where.platform },
    ]),
  });
}

/** The transfer to the connected account went through: its money is on the connected account now. */
export async function postPayoutTransferred(tx: Db, p: PayoutMoney, stripeTransferId: string) {
  if (p.transferAmountCents <= 0) return null;
  return postLedgerTransaction(tx, {
    ...posting(p, transferPostingKey(p.id, stripeTransferId)),
    kind: "payout_transferred",
    description: `transfer ${stripeTransferId} to the connected account`,
    metadata: { stripe_transfer_id: stripeTransferId },
    lines: moveLines(p.payeeId, "in_transit", "in_transit", [{ from: "platform", to: "connected", amount: p.transferAmountCents }]),
    stripeRefs: [
      { account: "platform", object: stripeTransferId, amount: -p.transferAmountCents },
      { account: onAccount(p), object: stripeTransferId, amount: p.transferAmountCents },
    ],
  });
}

/** Stripe made the payout: the money left the connected account for the bank. */
export async function postPayoutSent(tx: Db, p: PayoutMoney, stripePayoutId: string, effectiveAt?: Date) {
  if (p.stripeTransferId) await postPayoutTransferred(tx, p, p.stripeTransferId);
  return postLedgerTransaction(tx, {
    ...posting(p, payoutKey(p, "sent")),
    kind: "payout_sent",
    description: `payout ${stripePayoutId} on its way to the bank`,
    metadata: { stripe_payout_id: stripePayoutId },
    effectiveAt,
    lines: moveLines(p.payeeId, "in_transit", "in_transit", [{ from: "connected", to: "bank", amount: p.amountCents }]),
    stripeRefs: [{ account: onAccount(p), object: stripePayoutId, amount: -p.amountCents }],
  });
}

/** payout.paid: the bank has it. Sent first, if the webhook beat the executor's own record of it. */
export async function postPayoutPaid(tx: Db, p: PayoutMoney & Pick<Payout, "status">, stripePayoutId: string, effectiveAt: Date) {
  if (p.status === "planned" || p.status === "processing") await postPayoutSent(tx, p, stripePayoutId, effectiveAt);
  return postLedgerTransaction(tx, {
    ...posting(p, payoutKey(p, "paid")),
    kind: "payout_paid",
    description: `payout ${stripePayoutId} paid`,
    effectiveAt,
    lines: moveLines(p.payeeId, "in_transit", "paid", [{ from: "bank", to: "bank", amount: p.amountCents }]),
  });
}

/**
 * The payout failed: its money goes back to available where Stripe put it. A payout Stripe made and
 * then failed (or a bank returned) comes back to the connected account; one that never reached
 * Stripe's payouts is where planning and the transfer left it.
 */
export async function postPayoutReversed(
  tx: Db,
  p: PayoutMoney & Pick<Payout, "status" | "stripePayoutId">,
  code: string,
  effectiveAt: Date,
) {
  const sent = p.status === "in_transit" || p.status === "paid";
  const from = p.status === "paid" ? "paid" : "in_transit";
  const where = unsentLocation(p);
  const parts: { from: FundsLocation; to: FundsLocation; amount: number }[] = sent
    ? [{ from: "bank", to: "connected", amount: p.amountCents }]
    : [
        { from: "connected", to: "connected", amount: where.connected },
        { from: "platform", to: "platform", amount: where.platform },
      ];
  return postLedgerTransaction(tx, {
    ...posting(p, payoutKey(p, "reversed")),
    kind: "payout_reversed",
    description: `payout failed (${code}): funds back to available`,
    effectiveAt,
    lines: moveLines(p.payeeId, from, "available", parts),
    // A payout Stripe made and failed comes back as its payout_failure on the connected account.
    stripeRefs: sent && p.stripePayoutId ? [{ account: onAccount(p), object: p.stripePayoutId, amount: p.amountCents }] : [],
  });
}

/**
 * The platform took back `deltaCents` of the payout's transfer (Stripe's reversal): that money left
 * the connected account for the platform. From the bucket it was in: in transit while the payout
 * waits for its Stripe payout, else available (the payout failed, or was already paid and the
 * reversal overdraws the connected account: the payee owes it).
 */
export async function postTransferReversal(
  tx: Db,
  p: PayoutMoney & Pick<Payout, "status">,
  input: { deltaCents: number; cumulativeCents: number; stripeTransferId: string; effectiveAt: Date },
) {
  const kind = p.status === "planned" || p.status === "processing" ? "in_transit" : "available";
  return postLedgerTransaction(tx, {
    ...posting(p, transferPostingKey(p.id, input.stripeTransferId, input.cumulativeCents)),
    kind: "transfer_reversed",
    description: `transfer ${input.stripeTransferId} reversed: back on the platform`,
    metadata: { stripe_transfer_id: input.stripeTransferId, amount_reversed_total_cents: input.cumulativeCents },
    effectiveAt: input.effectiveAt,
    allowNegative: kind === "available",
    lines: moveLines(p.payeeId, kind, kind, [{ from: "connected", to: "platform", amount: input.deltaCents }]),
    stripeRefs: [
      { account: "platform", object: input.stripeTransferId, amount: input.deltaCents },
      { account: onAccount(p), object: input.stripeTransferId, amount: -input.deltaCents },
    ],
  });
}
