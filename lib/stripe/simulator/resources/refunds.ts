import { prependToSublist } from "../collection";
import { invalidRequest, parameterMissing, refundableAmount } from "../errors";
import { applyMetadata, optionalBoolean, optionalInteger, optionalString } from "../form";
import { proportionalSlice } from "../money";
import { LIST_PARAMS, listResponse, pathParam, type Route, type RouteContext } from "../router";
import type { SimulatorState } from "../state";
import type { FormObject, StoredObject } from "../types";
import { createdFilter } from "./balance";
import { refundApplicationFee } from "./application-fees";
import { reverseTransfer } from "./transfers";

// Refunds of charges on the platform, as Stripe's Connect docs describe them for destination
// charges ("Issue refunds"): the platform's balance always pays the customer back; the transfer to
// the connected account is reversed only with `reverse_transfer`, in proportion to the refund; the
// application fee is refunded only with `refund_application_fee`, in proportion to the refund.

function findCharge(state: SimulatorState, params: FormObject): StoredObject {
  const chargeId = optionalString(params, "charge");
  const intentId = optionalString(params, "payment_intent");
  const platform = state.platformAccountId;
  if (chargeId) return state.find("charge", chargeId, platform, "charge", "charge");
  if (!intentId) throw parameterMissing("charge");
  const intent = state.find("payment_intent", intentId, platform, "payment_intent", "payment_intent");
  if (typeof intent.latest_charge !== "string")
    throw invalidRequest(
      "This PaymentIntent does not have a successful charge to refund.",
      "charge_not_refundable",
      "payment_intent",
    );
  return state.find("charge", intent.latest_charge, platform, "charge");
}

/**
 * The slice of `total` this refund owes, proportional to the part of the charge refunded by the
 * refunds that asked for it (`key` keeps their running sum), rounded as proportionalSlice documents.
 */
function proportionalPart(
  state: SimulatorState,
  key: string,
  total: number,
  chargeAmount: number,
  refundAmount: number,
): number {
  const before = state.proportionalBase(key);
  const after = before + refundAmount;
  state.setProportionalBase(key, after);
  return proportionalSlice(total, chargeAmount, before, after);
}

function createRefund(ctx: RouteContext): StoredObject {
  const { params, state } = ctx;
  const platform = state.platformAccountId;
  const charge = findCharge(state, params);
  if (charge.status !== "succeeded")
    throw invalidRequest("This charge cannot be refunded.", "charge_not_refundable");
  const chargeAmount = Number(charge.amount);
  const amount = refundableAmount(
    optionalInteger(params, "amount"),
    chargeAmount - Number(charge.amount_refunded),
    { label: "Charge", noun: "charge", id: charge.id, alreadyRefundedCode: "charge_already_refunded" },
  );
  const currency = String(charge.currency);
  const refund = state.build("refund", "re");
  // Stripe keeps its processing fee on a refund: the refund's transaction carries no fee.
  const transaction = state.recordBalanceTransaction({
    owner: platform,
    amount: -amount,
    currency,
    type: "refund",
    reportingCategory: "refund",
    source: refund.id,
  });
  let reversalId: string | null = null;
  if (optionalBoolean(params, "reverse_transfer") === true && typeof charge.transfer === "string") {
    const transfer = state.find("transfer", charge.transfer, platform);
    const reversible = Number(transfer.amount) - Number(transfer.amount_reversed);
    const share = proportionalPart(
      state,
      `reverse:${charge.id}`,
      Number(transfer.amount),
      chargeAmount,
      amount,
    );
    const reversalAmount = Math.min(share, reversible);
    if (reversalAmount > 0)
      reversalId = reverseTransfer(state, transfer, reversalAmount, { refundId: refund.id }).id;
  }
  if (
    optionalBoolean(params, "refund_application_fee") === true &&
    typeof charge.application_fee === "string"
  ) {
    const fee = state.find("application_fee", charge.application_fee, platform, "application fee");
    const remaining = Number(fee.amount) - Number(fee.amount_refunded);
    const share = proportionalPart(state, `fee:${charge.id}`, Number(fee.amount), chargeAmount, amount);
    const feeRefundAmount = Math.min(share, remaining);
    if (feeRefundAmount > 0) refundApplicationFee(state, fee, feeRefundAmount);
  }
  Object.assign(refund, {
    amount,
    balance_transaction: transaction.id,
    charge: charge.id,
    currency,
    payment_intent: charge.payment_intent ?? null,
    reason: optionalString(params, "reason") ?? null,
    receipt_number: null,
    source_transfer_reversal: null,
    status: "succeeded",
    transfer_reversal: reversalId,
    customer: charge.customer ?? null,
    payment_method: charge.payment_method ?? null,
  });
  applyMetadata(refund, params);
  state.store("refund", platform, refund, [`refund:charge:${charge.id}`]);
  const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
  charge.amount_refunded = Number(charge.amount_refunded) + amount;
  charge.refunded = charge.amount_refunded === chargeAmount;
  prependToSublist(charge, "refunds", refund);
  state.emit("refund.created", refund, platform);
  state.emit("charge.refunded", charge, platform, previous);
  return refund;
}

export const refundRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/refunds",
    allowedParams: [
      "charge",
      "payment_intent",
      "amount",
      "reason",
      "metadata",
      "reverse_transfer",
      "refund_application_fee",
      "instructions_email",
    ],
    handle: createRefund,
  },
  {
    method: "GET",
    pattern: "/v1/refunds",
    allowedParams: [...LIST_PARAMS, "charge", "payment_intent", "created"],
    handle: (ctx) => {
      const charge = optionalString(ctx.params, "charge");
      const intent = optionalString(ctx.params, "payment_intent");
      const created = createdFilter(ctx);
      const account = ctx.account;
      const filter =
        charge || intent || created
          ? (item: StoredObject) =>
              (!charge || ctx.state.ownerOf(item.id) === account) &&
              (!intent || item.payment_intent === intent) &&
              (!created || created(item))
          : undefined;
      const collection = ctx.state.collection(charge ? `refund:charge:${charge}` : `refund:${ctx.account}`);
      return listResponse(ctx, collection, "/v1/refunds", filter);
    },
  },
  {
    method: "GET",
    pattern: "/v1/refunds/:id",
    allowedParams: [],
    handle: (ctx) => ctx.state.find("refund", pathParam(ctx, "id"), ctx.account),
  },
  {
    method: "POST",
    pattern: "/v1/refunds/:id",
    allowedParams: ["metadata"],
    handle: (ctx) => {
      const refund = ctx.state.find("refund", pathParam(ctx, "id"), ctx.account);
      const previous = { metadata: { ...(refund.metadata as object) } };
      applyMetadata(refund, ctx.params);
      ctx.state.emit("refund.updated", refund, ctx.account, previous);
      return refund;
    },
  },
];
