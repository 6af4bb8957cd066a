import { balanceInsufficient, invalidRequest, resourceMissing } from "../errors";
import {
  applyMetadata,
  optionalBoolean,
  optionalInteger,
  optionalString,
  requirePositiveAmount,
  requireString,
} from "../form";
import type { FeeDetail } from "../money";
import { proportionalSlice } from "../money";
import { LIST_PARAMS, listResponse, pathParam, type Route, type RouteContext } from "../router";
import type { SimulatorState } from "../state";
import type { StoredObject } from "../types";
import { prependToSublist } from "../collection";
import { findConnectedAccount, hasActiveTransfers } from "./accounts";
import { refundApplicationFee } from "./application-fees";

export interface TransferInput {
  amount: number;
  currency: string;
  destination: string;
  transferGroup?: string | null;
  description?: string | null;
  sourceTransaction?: string | null;
  /** Funds of a destination charge follow the charge (pending until it is available). */
  availableOn?: number;
  /** Fees taken from the destination's payment: a destination charge's application fee. */
  paymentFeeDetails?: FeeDetail[];
}

/** The destination account, if it exists and can receive transfers; Stripe's errors otherwise. */
export function assertTransferableDestination(state: SimulatorState, destinationId: string): StoredObject {
  const destination = findConnectedAccount(state, destinationId, "destination");
  if (!hasActiveTransfers(destination))
    throw invalidRequest(
      "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
      "insufficient_capabilities_for_transfer",
      "destination",
    );
  return destination;
}

/**
 * Moves platform funds to a connected account: a `transfer` on the platform and the matching
 * `py_` payment on the destination, each with its balance transaction.
 */
export function createTransferObject(state: SimulatorState, input: TransferInput): StoredObject {
  const platform = state.platformAccountId;
  const destination = assertTransferableDestination(state, input.destination);
  if (
    input.sourceTransaction == null &&
    state.balances.get(platform, input.currency).available < input.amount
  )
    throw balanceInsufficient(
      "You have insufficient available funds in your Stripe account. Try adding funds directly to your available balance by creating Charges using the 4000000000000077 test card.",
    );
  const transfer = state.build("transfer", "tr");
  const destinationPaymentId = `py_${transfer.id.slice(3)}`;
  const platformTransaction = state.recordBalanceTransaction({
    owner: platform,
    amount: -input.amount,
    currency: input.currency,
    type: "transfer",
    reportingCategory: "transfer",
    source: transfer.id,
    // A destination charge's transfer is funded by the charge itself, which is still pending.
    availableOn: input.availableOn,
  });
  Object.assign(transfer, {
    amount: input.amount,
    amount_reversed: 0,
    balance_transaction: platformTransaction.id,
    currency: input.currency,
    description: input.description ?? null,
    destination: destination.id,
    destination_payment: destinationPaymentId,
    reversals: {
      object: "list",
      data: [],
      has_more: false,
      total_count: 0,
      url: `/v1/transfers/${transfer.id}/reversals`,
    },
    reversed: false,
    source_transaction: input.sourceTransaction ?? null,
    source_type: "card",
    transfer_group: input.transferGroup ?? null,
  });
  const payment = state.build("charge", "py");
  payment.id = destinationPaymentId;
  const paymentTransaction = state.recordBalanceTransaction({
    owner: destination.id,
    amount: input.amount,
    currency: input.currency,
    type: "payment",
    reportingCategory: "charge",
    source: destinationPaymentId,
    availableOn: input.availableOn,
    feeDetails: input.paymentFeeDetails,
  });
  describePaymentOfTransfer(payment, {
    amount: input.amount,
    currency: input.currency,
    transferId: transfer.id,
    balanceTransactionId: paymentTransaction.id,
  });
  state.store("charge", destination.id, payment);
  const extra = [`transfer:destination:${destination.id}`];
  if (input.transferGroup) extra.push(`transfer:group:${input.transferGroup}`);
  state.store("transfer", platform, transfer, extra);
  state.emit("transfer.created", transfer, platform);
  return transfer;
}

/**
 * An account debit (Stripe's "debit a connected account"): a transfer made on the connected account,
 * Stripe-Account header set, to the platform's own account. The connected account's balance pays
 * it (`transfer` balance transaction), the platform receives a `py_` payment whose source_transfer
 * is the transfer (`payment` balance transaction).
 */
export function createAccountDebitObject(
  state: SimulatorState,
  from: string,
  input: { amount: number; currency: string; description?: string | null },
): StoredObject {
  const platform = state.platformAccountId;
  if (state.balances.get(from, input.currency).available < input.amount)
    throw balanceInsufficient(
      `You have insufficient funds in your Stripe account for this transfer. Your ${input.currency.toUpperCase()} balance is too low.`,
    );
  const transfer = state.build("transfer", "tr");
  const paymentId = `py_${transfer.id.slice(3)}`;
  const debitTransaction = state.recordBalanceTransaction({
    owner: from,
    amount: -input.amount,
    currency: input.currency,
    type: "transfer",
    reportingCategory: "transfer",
    source: transfer.id,
  });
  Object.assign(transfer, {
    amount: input.amount,
    amount_reversed: 0,
    balance_transaction: debitTransaction.id,
    currency: input.currency,
    description: input.description ?? null,
    destination: platform,
    destination_payment: paymentId,
    reversals: {
      object: "list",
      data: [],
      has_more: false,
      total_count: 0,
      url: `/v1/transfers/${transfer.id}/reversals`,
    },
    reversed: false,
    source_transaction: null,
    source_type: "card",
    transfer_group: null,
  });
  const payment = state.build("charge", "py");
  payment.id = paymentId;
  const paymentTransaction = state.recordBalanceTransaction({
    owner: platform,
    amount: input.amount,
    currency: input.currency,
    type: "payment",
    reportingCategory: "charge",
    source: paymentId,
  });
  describePaymentOfTransfer(payment, {
    amount: input.amount,
    currency: input.currency,
    transferId: transfer.id,
    balanceTransactionId: paymentTransaction.id,
  });
  state.store("charge", platform, payment);
  state.store("transfer", from, transfer);
  state.emit("transfer.created", transfer, from);
  return transfer;
}

function createTransfer(ctx: RouteContext): StoredObject {
  const { params, state } = ctx;
  if (ctx.connected) {
    // Only an account debit is made with a Stripe-Account header: to the platform's own account.
    if (requireString(params, "destination") !== state.platformAccountId)
      throw invalidRequest(
        "A transfer made on a connected account (Stripe-Account header) can only go to the platform's account (an account debit).",
        undefined,
        "destination",
      );
    const debit = createAccountDebitObject(state, ctx.account, {
      amount: requirePositiveAmount(params),
      currency: requireString(params, "currency").toLowerCase(),
      description: optionalString(params, "description") ?? null,
    });
    applyMetadata(debit, params);
    return debit;
  }
  const transferGroup = optionalString(params, "transfer_group");
  const transfer = createTransferObject(state, {
    amount: requirePositiveAmount(params),
    currency: requireString(params, "currency").toLowerCase(),
    destination: requireString(params, "destination"),
    transferGroup: transferGroup ?? null,
    description: optionalString(params, "description") ?? null,
  });
  applyMetadata(transfer, params);
  return transfer;
}

/**
 * Takes funds back from the connected account (Stripe allows its balance to go negative here): a
 * `transfer_reversal` with a `transfer_refund` balance transaction on the platform, and on the
 * destination a refund of its `py_` payment (`pyr_`) with a `payment_refund` balance transaction.
 */
export function reverseTransfer(
  state: SimulatorState,
  transfer: StoredObject,
  amount: number | undefined,
  options: { refundId?: string } = {},
): StoredObject {
  const transferAmount = Number(transfer.amount);
  const alreadyReversed = Number(transfer.amount_reversed);
  const reversible = transferAmount - alreadyReversed;
  const reversalAmount = amount ?? reversible;
  if (reversalAmount <= 0 || reversalAmount > reversible)
    throw invalidRequest(
      `You have requested a reversal of ${reversalAmount}, but only ${reversible} remains on this transfer.`,
      "transfer_reversal_amount_exceeds_transfer",
      "amount",
    );
  const currency = String(transfer.currency);
  const destination = String(transfer.destination);
  const reversal = state.build("transfer_reversal", "trr");
  const paymentRefundId = `pyr_${reversal.id.slice(4)}`;
  const platformTransaction = state.recordBalanceTransaction({
    owner: state.platformAccountId,
    amount: reversalAmount,
    currency,
    type: "transfer_refund",
    reportingCategory: "transfer_reversal",
    source: reversal.id,
  });
  const destinationTransaction = state.recordBalanceTransaction({
    owner: destination,
    amount: -reversalAmount,
    currency,
    type: "payment_refund",
    reportingCategory: "refund",
    source: paymentRefundId,
  });
  Object.assign(reversal, {
    amount: reversalAmount,
    balance_transaction: platformTransaction.id,
    currency,
    destination_payment_refund: paymentRefundId,
    source_refund: options.refundId ?? null,
    transfer: transfer.id,
  });
  state.store("transfer_reversal", state.platformAccountId, reversal, [
    `transfer_reversal:transfer:${transfer.id}`,
  ]);
  const payment = state.lookup(String(transfer.destination_payment))?.object;
  const paymentRefund = state.build("refund", "pyr");
  paymentRefund.id = paymentRefundId;
  Object.assign(paymentRefund, {
    amount: reversalAmount,
    balance_transaction: destinationTransaction.id,
    charge: payment?.id ?? null,
    currency,
    source_transfer_reversal: reversal.id,
    status: "succeeded",
  });
  state.store("refund", destination, paymentRefund);
  if (payment) {
    payment.amount_refunded = Number(payment.amount_refunded) + reversalAmount;
    payment.refunded = payment.amount_refunded === Number(payment.amount);
    prependToSublist(payment, "refunds", paymentRefund);
  }
  const previous = { amount_reversed: alreadyReversed, reversed: transfer.reversed };
  transfer.amount_reversed = alreadyReversed + reversalAmount;
  transfer.reversed = transfer.amount_reversed === transferAmount;
  prependToSublist(transfer, "reversals", reversal);
  state.emit("transfer.reversed", transfer, state.platformAccountId, previous);
  return reversal;
}

/** The application fee collected on the destination charge that made this transfer, if any. */
export function applicationFeeOfTransfer(
  state: SimulatorState,
  transfer: StoredObject,
): StoredObject | undefined {
  const charge = state.lookup(String(transfer.source_transaction))?.object;
  if (!charge || typeof charge.application_fee !== "string") return undefined;
  return state.lookup(charge.application_fee)?.object;
}

/**
 * `POST /v1/transfers/:id/reversals`. With `refund_application_fee`, the destination charge's fee is
 * refunded "with an amount proportional to the amount of the transfer reversed" (the full fee for a
 * full reversal), rounded as proportionalSlice documents.
 */
function createReversal(ctx: RouteContext): StoredObject {
  const { state, params } = ctx;
  const transfer = state.find("transfer", pathParam(ctx, "id"), ctx.account);
  const reversal = reverseTransfer(state, transfer, optionalInteger(params, "amount"));
  applyMetadata(reversal, params);
  if (optionalBoolean(params, "refund_application_fee") === true) {
    const fee = applicationFeeOfTransfer(state, transfer);
    if (fee) {
      const key = `fee-by-reversal:${transfer.id}`;
      const before = state.proportionalBase(key);
      const after = before + Number(reversal.amount);
      state.setProportionalBase(key, after);
      const remaining = Number(fee.amount) - Number(fee.amount_refunded);
      const slice = Math.min(
        proportionalSlice(Number(fee.amount), Number(transfer.amount), before, after),
        remaining,
      );
      if (slice > 0) refundApplicationFee(state, fee, slice);
    }
  }
  return reversal;
}

export const transferRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/transfers",
    allowedParams: [
      "amount",
      "currency",
      "destination",
      "transfer_group",
      "metadata",
      "description",
      "source_transaction",
      "source_type",
    ],
    handle: createTransfer,
  },
  {
    method: "GET",
    pattern: "/v1/transfers",
    allowedParams: [...LIST_PARAMS, "destination", "transfer_group", "created"],
    handle: (ctx) => {
      const destination = optionalString(ctx.params, "destination");
      const group = optionalString(ctx.params, "transfer_group");
      const { state } = ctx;
      // Use the narrowest index; filter by the other criterion if both are given.
      const collection = destination
        ? state.collection(`transfer:destination:${destination}`)
        : group
          ? state.collection(`transfer:group:${group}`)
          : state.collection(`transfer:${ctx.account}`);
      const filter = destination && group ? (item: StoredObject) => item.transfer_group === group : undefined;
      return listResponse(ctx, collection, "/v1/transfers", filter);
    },
  },
  {
    method: "GET",
    pattern: "/v1/transfers/:id",
    allowedParams: [],
    handle: (ctx) => ctx.state.find("transfer", pathParam(ctx, "id"), ctx.account),
  },
  {
    method: "POST",
    pattern: "/v1/transfers/:id/reversals",
    allowedParams: ["amount", "metadata", "description", "refund_application_fee"],
    handle: createReversal,
  },
  {
    method: "GET",
    pattern: "/v1/transfers/:id/reversals/:reversal",
    allowedParams: [],
    handle: (ctx) => {
      const transfer = ctx.state.find("transfer", pathParam(ctx, "id"), ctx.account);
      const reversal = ctx.state.find(
        "transfer_reversal",
        pathParam(ctx, "reversal"),
        ctx.account,
        "transfer_reversal",
      );
      if (reversal.transfer !== transfer.id) throw resourceMissing("transfer_reversal", reversal.id);
      return reversal;
    },
  },
  {
    method: "GET",
    pattern: "/v1/transfers/:id/reversals",
    allowedParams: [...LIST_PARAMS],
    handle: (ctx) => {
      const transfer = ctx.state.find("transfer", pathParam(ctx, "id"), ctx.account);
      return listResponse(
        ctx,
        ctx.state.collection(`transfer_reversal:transfer:${transfer.id}`),
        `/v1/transfers/${transfer.id}/reversals`,
      );
    },
  },
];

/** The `py_` payment a transfer makes on the account it lands on: a charge-shaped object, as Stripe shows it. */
function describePaymentOfTransfer(
  payment: StoredObject,
  input: { amount: number; currency: string; transferId: string; balanceTransactionId: string },
): void {
  Object.assign(payment, {
    amount: input.amount,
    amount_captured: input.amount,
    amount_refunded: 0,
    balance_transaction: input.balanceTransactionId,
    currency: input.currency,
    source_transfer: input.transferId,
    status: "succeeded",
    paid: true,
    captured: true,
    refunded: false,
    disputed: false,
    payment_intent: null,
    payment_method: null,
    customer: null,
    transfer_data: null,
    application_fee: null,
    application_fee_amount: null,
    refunds: { object: "list", data: [], has_more: false, url: `/v1/charges/${payment.id}/refunds` },
  });
}
