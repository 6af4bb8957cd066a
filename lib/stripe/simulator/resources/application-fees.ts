import { prependToSublist } from "../collection";
import { refundableAmount, resourceMissing } from "../errors";
import { applyMetadata, optionalInteger, optionalString } from "../form";
import { PLATFORM_APPLICATION_ID } from "../money";
import { LIST_PARAMS, listResponse, pathParam, type Route, type RouteContext } from "../router";
import type { SimulatorState } from "../state";
import type { StoredObject } from "../types";
import { createdFilter } from "./balance";

// Application fees on destination charges, as Stripe's Connect docs describe them ("Collect fees"):
// the whole charge is transferred to the connected account, then the fee is collected from it. The
// connected account sees the fee in its payment's `fee_details` (type `application_fee`); the
// platform gets an `application_fee` object and an `application_fee` balance transaction.

export interface CollectApplicationFeeInput {
  amount: number;
  currency: string;
  /** The connected account the fee is taken from. */
  account: string;
  /** The connected account's `py_` payment the fee is taken from (`application_fee.charge`). */
  paymentId: string;
  /** The platform's charge (`application_fee.originating_transaction`). */
  chargeId: string;
  /** The fee follows the charge's funds: available on the same schedule. */
  availableOn: number;
}

export function collectApplicationFee(
  state: SimulatorState,
  input: CollectApplicationFeeInput,
): StoredObject {
  const platform = state.platformAccountId;
  const fee = state.build("application_fee", "fee");
  const transaction = state.recordBalanceTransaction({
    owner: platform,
    amount: input.amount,
    currency: input.currency,
    type: "application_fee",
    reportingCategory: "platform_earning",
    source: fee.id,
    description: "Application fee",
    availableOn: input.availableOn,
  });
  Object.assign(fee, {
    account: input.account,
    amount: input.amount,
    amount_refunded: 0,
    application: PLATFORM_APPLICATION_ID,
    balance_transaction: transaction.id,
    charge: input.paymentId,
    currency: input.currency,
    fee_source: { charge: input.paymentId, type: "charge" },
    originating_transaction: input.chargeId,
    refunded: false,
    refunds: { object: "list", data: [], has_more: false, url: `/v1/application_fees/${fee.id}/refunds` },
  });
  state.store("application_fee", platform, fee);
  state.emit("application_fee.created", fee, platform);
  return fee;
}

/**
 * Gives part or all of an application fee back to the connected account it was taken from: a
 * `fee_refund`, an `application_fee_refund` balance transaction on the platform, and on the
 * connected account an `adjustment` that Stripe's reporting categories file under `fee` ("Connect
 * platform fee refunds").
 */
export function refundApplicationFee(
  state: SimulatorState,
  fee: StoredObject,
  amount: number | undefined,
): StoredObject {
  const platform = state.platformAccountId;
  const refundAmount = refundableAmount(amount, Number(fee.amount) - Number(fee.amount_refunded), {
    label: "Application fee",
    noun: "fee",
    id: fee.id,
  });
  const currency = String(fee.currency);
  const feeRefund = state.build("fee_refund", "fr");
  const platformTransaction = state.recordBalanceTransaction({
    owner: platform,
    amount: -refundAmount,
    currency,
    type: "application_fee_refund",
    reportingCategory: "platform_earning_refund",
    source: feeRefund.id,
    description: "Application fee refund",
  });
  state.recordBalanceTransaction({
    owner: String(fee.account),
    amount: refundAmount,
    currency,
    type: "adjustment",
    reportingCategory: "fee",
    source: feeRefund.id,
    description: "Application fee refund",
  });
  Object.assign(feeRefund, {
    amount: refundAmount,
    balance_transaction: platformTransaction.id,
    currency,
    fee: fee.id,
  });
  state.store("fee_refund", platform, feeRefund, [`fee_refund:fee:${fee.id}`]);
  const previous = { amount_refunded: fee.amount_refunded, refunded: fee.refunded };
  fee.amount_refunded = Number(fee.amount_refunded) + refundAmount;
  fee.refunded = fee.amount_refunded === Number(fee.amount);
  prependToSublist(fee, "refunds", feeRefund);
  state.emit("application_fee.refunded", fee, platform, previous);
  return feeRefund;
}

function findFee(ctx: RouteContext, name = "id"): StoredObject {
  return ctx.state.find("application_fee", pathParam(ctx, name), ctx.account, "application fee");
}

function findFeeRefund(ctx: RouteContext): StoredObject {
  const fee = findFee(ctx, "fee");
  const id = pathParam(ctx, "id");
  const feeRefund = ctx.state.find("fee_refund", id, ctx.account, "fee refund");
  if (feeRefund.fee !== fee.id) throw resourceMissing("fee refund", id);
  return feeRefund;
}

export const applicationFeeRoutes: Route[] = [
  {
    method: "GET",
    pattern: "/v1/application_fees",
    allowedParams: [...LIST_PARAMS, "charge", "created"],
    handle: (ctx) => {
      const charge = optionalString(ctx.params, "charge");
      const created = createdFilter(ctx);
      const filter =
        charge || created
          ? (item: StoredObject) =>
              (!charge || item.charge === charge || item.originating_transaction === charge) &&
              (!created || created(item))
          : undefined;
      return listResponse(
        ctx,
        ctx.state.collection(`application_fee:${ctx.account}`),
        "/v1/application_fees",
        filter,
      );
    },
  },
  {
    method: "GET",
    pattern: "/v1/application_fees/:id",
    allowedParams: [],
    handle: (ctx) => findFee(ctx),
  },
  {
    method: "GET",
    pattern: "/v1/application_fees/:id/refunds",
    allowedParams: [...LIST_PARAMS],
    handle: (ctx) => {
      const fee = findFee(ctx);
      return listResponse(
        ctx,
        ctx.state.collection(`fee_refund:fee:${fee.id}`),
        `/v1/application_fees/${fee.id}/refunds`,
      );
    },
  },
  {
    method: "POST",
    pattern: "/v1/application_fees/:id/refunds",
    allowedParams: ["amount", "metadata"],
    handle: (ctx) => {
      const feeRefund = refundApplicationFee(ctx.state, findFee(ctx), optionalInteger(ctx.params, "amount"));
      applyMetadata(feeRefund, ctx.params);
      return feeRefund;
    },
  },
  {
    method: "GET",
    pattern: "/v1/application_fees/:fee/refunds/:id",
    allowedParams: [],
    handle: findFeeRefund,
  },
  {
    method: "POST",
    pattern: "/v1/application_fees/:fee/refunds/:id",
    allowedParams: ["metadata"],
    handle: (ctx) => {
      const feeRefund = findFeeRefund(ctx);
      const previous = { metadata: { ...(feeRefund.metadata as object) } };
      applyMetadata(feeRefund, ctx.params);
      ctx.state.emit("application_fee.refund.updated", feeRefund, ctx.state.platformAccountId, previous);
      return feeRefund;
    },
  },
];
