import type { Db } from "../../db/client";
import type { Payout } from "../../db/schema";
import { type PostingLine, postLedgerTransaction } from "../ledger";
import { payoutKey } from "./keys";

// The fee of an instant payout (lib/instant-payouts), where the money goes as Stripe moves it. At the
// request the fee leaves the payee's available balance: the part on the platform straight to the
// platform's `fees` (no Stripe movement), the part on the connected account into in_transit there
// until the account debit takes it to the platform. A failed instant payout gives the whole fee back.
// Here, beside settle.ts, because a failure (webhook or executor) returns it in failPayout.

type FeeMoney = Pick<
  Payout,
  | "id"
  | "retries"
  | "payeeId"
  | "currency"
  | "feeCents"
  | "feeDebitCents"
  | "stripeFeeTransferId"
  | "stripeAccountId"
>;

/** The account debit took the connected account's part of the fee to the platform. */
export async function postInstantFeeCollected(tx: Db, p: FeeMoney, stripeFeeTransferId: string) {
  if (p.feeDebitCents <= 0) return null;
  return postLedgerTransaction(tx, {
    idempotencyKey: `payout:${p.id}:fee_collected:${stripeFeeTransferId}`,
    kind: "instant_fee_collected",
    description: `instant payout fee taken from the connected account (${stripeFeeTransferId})`,
    currency: p.currency,
    payeeId: p.payeeId,
    sourceType: "payout",
    sourceId: p.id,
    metadata: { stripe_transfer_id: stripeFeeTransferId },
    lines: [
      { payeeId: p.payeeId, kind: "in_transit", location: "connected", amount: -p.feeDebitCents },
      { kind: "fees", amount: p.feeDebitCents },
    ],
    stripeRefs: [
      { account: p.stripeAccountId ?? "unknown", object: stripeFeeTransferId, amount: -p.feeDebitCents },
      { account: "platform", object: stripeFeeTransferId, amount: p.feeDebitCents },
    ],
  });
}

/**
 * The instant payout failed: its fee goes back to the payee's available balance, from where it is
 * now. What the platform holds (the platform's part, and the debited part) comes back on the platform
 * (Stripe keeps an account debit; the next payout transfers that money again); a part not yet debited
 * is still on the connected account.
 */
export async function postInstantFeeReturned(tx: Db, p: FeeMoney, code: string, effectiveAt: Date) {
  if (p.feeCents <= 0) return null;
  const onPlatform = p.feeCents - (p.stripeFeeTransferId ? 0 : p.feeDebitCents);
  const onConnected = p.feeCents - onPlatform;
  const lines: PostingLine[] = [];
  if (onPlatform > 0)
    lines.push(
      { kind: "fees", amount: -onPlatform },
      { payeeId: p.payeeId, kind: "available", location: "platform", amount: onPlatform },
    );
  if (onConnected > 0)
    lines.push(
      { payeeId: p.payeeId, kind: "in_transit", location: "connected", amount: -onConnected },
      { payeeId: p.payeeId, kind: "available", location: "connected", amount: onConnected },
    );
  return postLedgerTransaction(tx, {
    idempotencyKey: payoutKey(p, "fee_returned"),
    kind: "instant_fee_returned",
    description: `instant payout failed (${code}): fee back to available`,
    currency: p.currency,
    payeeId: p.payeeId,
    sourceType: "payout",
    sourceId: p.id,
    effectiveAt,
    lines,
  });
}
