import { cardDeclined, invalidRequest, parameterMissing } from "../errors";
import {
  applyMetadata,
  optionalBoolean,
  optionalInteger,
  optionalObject,
  optionalString,
  requirePositiveAmount,
  requireString,
} from "../form";
import { LIST_PARAMS, listResponse, pathParam, type Route, type RouteContext } from "../router";
import type { SimulatorState } from "../state";
import type { FormObject, StoredObject } from "../types";
import { isRecord } from "../types";
import { assertTransferableDestination, createTransferObject, reverseTransfer } from "./transfers";

const DAY = 86_400;
/** Stripe's dispute fee in the US, in cents. */
export const DISPUTE_FEE_CENTS = 1500;

/** Stripe's test payment methods that decline, and with which decline code. */
const DECLINING_PAYMENT_METHODS: Record<string, string> = {
  pm_card_chargeDeclined: "generic_decline",
  pm_card_chargeDeclinedInsufficientFunds: "insufficient_funds",
  pm_card_chargeDeclinedLostCard: "lost_card",
  pm_card_chargeDeclinedStolenCard: "stolen_card",
  pm_card_chargeDeclinedFraudulent: "fraudulent",
};
/** With this test card, funds skip the pending period, as Stripe's `pm_card_bypassPending`. */
export const BYPASS_PENDING_PAYMENT_METHOD = "pm_card_bypassPending";

export interface DestinationChargeInput {
  amount: number;
  currency: string;
  destination?: string;
  applicationFeeAmount?: number;
  customer?: string | null;
  paymentMethod?: string;
  description?: string | null;
  transferGroup?: string | null;
  confirm: boolean;
}

function buildPaymentIntent(state: SimulatorState, input: DestinationChargeInput): StoredObject {
  const intent = state.build("payment_intent", "pi");
  Object.assign(intent, {
    amount: input.amount,
    amount_capturable: 0,
    amount_received: 0,
    application: null,
    application_fee_amount: input.applicationFeeAmount ?? null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: "automatic",
    client_secret: `${intent.id}_secret_${Math.random().toString(36).slice(2, 20)}`,
    confirmation_method: "automatic",
    currency: input.currency,
    customer: input.customer ?? null,
    description: input.description ?? null,
    last_payment_error: null,
    latest_charge: null,
    next_action: null,
    on_behalf_of: null,
    payment_method: input.paymentMethod ?? null,
    payment_method_types: ["card"],
    processing: null,
    status: input.paymentMethod ? "requires_confirmation" : "requires_payment_method",
    transfer_data: input.destination ? { destination: input.destination } : null,
    transfer_group: input.transferGroup ?? null,
  });
  state.store("payment_intent", state.platformAccountId, intent);
  return intent;
}

/** Charges the card: the platform is credited, and for a destination charge the connected account gets amount minus the fee. */
export function confirmPaymentIntent(state: SimulatorState, intent: StoredObject): StoredObject {
  const paymentMethod = typeof intent.payment_method === "string" ? intent.payment_method : undefined;
  if (!paymentMethod) throw parameterMissing("payment_method");
  if (intent.status === "succeeded")
    throw invalidRequest("This PaymentIntent has already succeeded.", "payment_intent_unexpected_state");
  const platform = state.platformAccountId;
  const amount = Number(intent.amount);
  const currency = String(intent.currency);
  const destinationId =
    isRecord(intent.transfer_data) && typeof intent.transfer_data.destination === "string"
      ? intent.transfer_data.destination
      : undefined;
  // Check the destination before any money moves, so a refused charge leaves no trace in balances.
  if (destinationId) assertTransferableDestination(state, destinationId);
  const charge = state.build("charge", "ch");
  const declineCode = DECLINING_PAYMENT_METHODS[paymentMethod];
  if (declineCode) {
    Object.assign(charge, {
      amount,
      currency,
      status: "failed",
      paid: false,
      captured: false,
      payment_intent: intent.id,
      failure_code: "card_declined",
      failure_message: "Your card was declined.",
      balance_transaction: null,
      refunds: { object: "list", data: [], has_more: false, url: `/v1/charges/${charge.id}/refunds` },
    });
    state.store("charge", platform, charge);
    intent.status = "requires_payment_method";
    intent.latest_charge = charge.id;
    intent.last_payment_error = {
      code: "card_declined",
      decline_code: declineCode,
      message: "Your card was declined.",
      type: "card_error",
    };
    state.emit("charge.failed", charge, platform);
    state.emit("payment_intent.payment_failed", intent, platform);
    throw cardDeclined(declineCode, "Your card was declined.", charge.id);
  }
  const now = state.now();
  const availableOn = paymentMethod === BYPASS_PENDING_PAYMENT_METHOD ? now : now + 2 * DAY;
  const transaction = state.recordBalanceTransaction({
    owner: platform,
    amount,
    currency,
    type: "charge",
    reportingCategory: "charge",
    source: charge.id,
    availableOn,
  });
  const destination =
    isRecord(intent.transfer_data) && typeof intent.transfer_data.destination === "string"
      ? intent.transfer_data.destination
      : undefined;
  const applicationFee =
    typeof intent.application_fee_amount === "number" ? intent.application_fee_amount : 0;
  let transferId: string | null = null;
  let applicationFeeId: string | null = null;
  if (destination) {
    const transfer = createTransferObject(state, {
      amount: amount - applicationFee,
      currency,
      destination,
      transferGroup: typeof intent.transfer_group === "string" ? intent.transfer_group : `group_${intent.id}`,
      sourceTransaction: charge.id,
      availableOn,
    });
    transferId = transfer.id;
    if (applicationFee > 0) {
      const fee = state.build("application_fee", "fee");
      Object.assign(fee, {
        account: destination,
        amount: applicationFee,
        amount_refunded: 0,
        application: "ca_simulator",
        balance_transaction: transaction.id,
        charge: charge.id,
        currency,
        refunded: false,
        originating_transaction: null,
        fee_source: { charge: charge.id, type: "charge" },
        refunds: { object: "list", data: [], has_more: false, url: `/v1/application_fees/${fee.id}/refunds` },
      });
      state.store("application_fee", platform, fee);
      applicationFeeId = fee.id;
    }
  }
  Object.assign(charge, {
    amount,
    amount_captured: amount,
    amount_refunded: 0,
    application: null,
    application_fee: applicationFeeId,
    application_fee_amount: destination ? applicationFee : null,
    balance_transaction: transaction.id,
    captured: true,
    currency,
    customer: intent.customer ?? null,
    description: intent.description ?? null,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    outcome: {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: "approved_by_network",
      reason: null,
      risk_level: "normal",
      risk_score: 20,
      seller_message: "Payment complete.",
      type: "authorized",
    },
    paid: true,
    payment_intent: intent.id,
    payment_method: paymentMethod,
    refunded: false,
    refunds: {
      object: "list",
      data: [],
      has_more: false,
      total_count: 0,
      url: `/v1/charges/${charge.id}/refunds`,
    },
    status: "succeeded",
    transfer: transferId,
    transfer_data: destination ? { amount: null, destination } : null,
    transfer_group: destination ? (intent.transfer_group ?? `group_${intent.id}`) : null,
    source_transfer: null,
    on_behalf_of: null,
  });
  state.store("charge", platform, charge);
  Object.assign(intent, {
    status: "succeeded",
    amount_received: amount,
    latest_charge: charge.id,
    last_payment_error: null,
    transfer_group: charge.transfer_group,
  });
  state.emit("charge.succeeded", charge, platform);
  state.emit("payment_intent.succeeded", intent, platform);
  return intent;
}

export function createDestinationCharge(state: SimulatorState, input: DestinationChargeInput): StoredObject {
  if (input.applicationFeeAmount !== undefined && input.applicationFeeAmount > input.amount)
    throw invalidRequest(
      "The application fee cannot exceed the charge amount.",
      "parameter_invalid_integer",
      "application_fee_amount",
    );
  const intent = buildPaymentIntent(state, input);
  return input.confirm ? confirmPaymentIntent(state, intent) : intent;
}

function createPaymentIntent(ctx: RouteContext): StoredObject {
  const { params, state } = ctx;
  const transferData = optionalObject(params, "transfer_data");
  const destination =
    transferData && typeof transferData.destination === "string" ? transferData.destination : undefined;
  const customer = optionalString(params, "customer");
  if (customer) state.find("customer", customer, state.platformAccountId, "customer", "customer");
  const intentInput: DestinationChargeInput = {
    amount: requirePositiveAmount(params),
    currency: requireString(params, "currency").toLowerCase(),
    destination,
    applicationFeeAmount: optionalInteger(params, "application_fee_amount"),
    customer: customer ?? null,
    paymentMethod: optionalString(params, "payment_method"),
    description: optionalString(params, "description") ?? null,
    transferGroup: optionalString(params, "transfer_group") ?? null,
    confirm: optionalBoolean(params, "confirm") ?? false,
  };
  if (intentInput.applicationFeeAmount !== undefined && intentInput.applicationFeeAmount > intentInput.amount)
    throw invalidRequest(
      "The application fee cannot exceed the charge amount.",
      "parameter_invalid_integer",
      "application_fee_amount",
    );
  // Metadata goes on before confirming so the events carry it.
  const intent = buildPaymentIntent(state, intentInput);
  applyMetadata(intent, params);
  return intentInput.confirm ? confirmPaymentIntent(state, intent) : intent;
}

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

function createRefund(ctx: RouteContext): StoredObject {
  const { params, state } = ctx;
  const platform = state.platformAccountId;
  const charge = findCharge(state, params);
  if (charge.status !== "succeeded")
    throw invalidRequest("This charge cannot be refunded.", "charge_not_refundable");
  const chargeAmount = Number(charge.amount);
  const refundable = chargeAmount - Number(charge.amount_refunded);
  const amount = optionalInteger(params, "amount") ?? refundable;
  if (refundable <= 0)
    throw invalidRequest(`Charge ${charge.id} has already been refunded.`, "charge_already_refunded");
  if (amount <= 0 || amount > refundable)
    throw invalidRequest(
      `Refund amount (${amount}) is greater than unrefunded amount on charge (${refundable})`,
      "amount_too_large",
      "amount",
    );
  const currency = String(charge.currency);
  const refund = state.build("refund", "re");
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
    const proportional = Math.round((Number(transfer.amount) * amount) / chargeAmount);
    const reversible = Number(transfer.amount) - Number(transfer.amount_reversed);
    const reversal = reverseTransfer(state, transfer, Math.min(proportional, reversible), {
      refundId: refund.id,
    });
    reversalId = reversal.id;
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
  state.store("refund", platform, refund);
  const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
  charge.amount_refunded = Number(charge.amount_refunded) + amount;
  charge.refunded = charge.amount_refunded === chargeAmount;
  const refunds = isRecord(charge.refunds) ? charge.refunds : {};
  const refundList = Array.isArray(refunds.data) ? refunds.data : [];
  refunds.data = [refund, ...refundList].slice(0, 10);
  refunds.total_count = refundList.length + 1;
  charge.refunds = refunds;
  state.emit("refund.created", refund, platform);
  state.emit("charge.refunded", charge, platform, previous);
  return refund;
}

/** A cardholder disputes a charge: Stripe takes the amount plus the dispute fee from the platform. */
export function createDispute(
  state: SimulatorState,
  chargeId: string,
  input: { amount?: number; reason?: string } = {},
): StoredObject {
  const platform = state.platformAccountId;
  const charge = state.find("charge", chargeId, platform, "charge");
  const amount = input.amount ?? Number(charge.amount) - Number(charge.amount_refunded);
  const currency = String(charge.currency);
  const dispute = state.build("dispute", "dp");
  const withdrawal = state.recordBalanceTransaction({
    owner: platform,
    amount: -amount,
    fee: DISPUTE_FEE_CENTS,
    currency,
    type: "adjustment",
    reportingCategory: "dispute",
    source: dispute.id,
    description: `Chargeback withdrawal for ${charge.id}`,
  });
  Object.assign(dispute, {
    amount,
    balance_transactions: [withdrawal],
    charge: charge.id,
    currency,
    evidence_details: {
      due_by: state.now() + 7 * DAY,
      has_evidence: false,
      past_due: false,
      submission_count: 0,
      enhanced_eligibility: {},
    },
    is_charge_refundable: false,
    payment_intent: charge.payment_intent ?? null,
    reason: input.reason ?? "fraudulent",
    status: "needs_response",
  });
  state.store("dispute", platform, dispute);
  charge.disputed = true;
  state.emit("charge.dispute.created", dispute, platform);
  state.emit("charge.dispute.funds_withdrawn", dispute, platform);
  return dispute;
}

/** Ends a dispute: `lost` (closing it yourself is accepting it) or `won` (the amount comes back). */
export function resolveDispute(
  state: SimulatorState,
  disputeId: string,
  outcome: "won" | "lost",
): StoredObject {
  const platform = state.platformAccountId;
  const dispute = state.find("dispute", disputeId, platform, "dispute");
  if (dispute.status === "won" || dispute.status === "lost")
    throw invalidRequest("This dispute is already closed.", "dispute_already_closed");
  const previous = { status: dispute.status };
  dispute.status = outcome;
  if (outcome === "won") {
    const reinstated = state.recordBalanceTransaction({
      owner: platform,
      amount: Number(dispute.amount),
      currency: String(dispute.currency),
      type: "adjustment",
      reportingCategory: "dispute_reversal",
      source: dispute.id,
      description: `Chargeback reversal for ${String(dispute.charge)}`,
    });
    const transactions = Array.isArray(dispute.balance_transactions) ? dispute.balance_transactions : [];
    dispute.balance_transactions = [...transactions, reinstated];
    state.emit("charge.dispute.funds_reinstated", dispute, platform);
  }
  state.emit("charge.dispute.closed", dispute, platform, previous);
  return dispute;
}

/** Legacy test tokens map to the equivalent test payment methods. */
function paymentMethodForSource(source: string): string {
  if (source.startsWith("pm_")) return source;
  const suffix = source.replace(/^tok_/, "");
  return `pm_card_${suffix}`;
}

/** The legacy Charges API (`source=tok_visa`, `destination` or `transfer_data[destination]`), backed by a PaymentIntent. */
function createLegacyCharge(ctx: RouteContext): StoredObject {
  const { params, state } = ctx;
  const transferData = optionalObject(params, "transfer_data");
  const destination =
    optionalString(params, "destination") ??
    (transferData && typeof transferData.destination === "string" ? transferData.destination : undefined);
  const intent = buildPaymentIntent(state, {
    amount: requirePositiveAmount(params),
    currency: requireString(params, "currency").toLowerCase(),
    destination,
    applicationFeeAmount: optionalInteger(params, "application_fee_amount"),
    customer: optionalString(params, "customer") ?? null,
    paymentMethod: paymentMethodForSource(optionalString(params, "source") ?? "tok_visa"),
    description: optionalString(params, "description") ?? null,
    transferGroup: optionalString(params, "transfer_group") ?? null,
    confirm: true,
  });
  confirmPaymentIntent(state, intent);
  const charge = state.find("charge", String(intent.latest_charge), state.platformAccountId, "charge");
  applyMetadata(charge, params);
  return charge;
}

export const paymentRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/charges",
    allowedParams: [
      "amount",
      "currency",
      "source",
      "destination",
      "transfer_data",
      "application_fee_amount",
      "customer",
      "metadata",
      "description",
      "transfer_group",
      "capture",
      "on_behalf_of",
    ],
    handle: createLegacyCharge,
  },
  {
    method: "POST",
    pattern: "/v1/payment_intents",
    allowedParams: [
      "amount",
      "currency",
      "payment_method",
      "confirm",
      "transfer_data",
      "application_fee_amount",
      "customer",
      "metadata",
      "description",
      "transfer_group",
      "payment_method_types",
      "automatic_payment_methods",
      "off_session",
      "receipt_email",
      "statement_descriptor",
      "on_behalf_of",
      "capture_method",
      "return_url",
    ],
    handle: createPaymentIntent,
  },
  {
    method: "GET",
    pattern: "/v1/payment_intents/:id",
    allowedParams: ["client_secret"],
    handle: (ctx) => ctx.state.find("payment_intent", pathParam(ctx, "id"), ctx.account),
  },
  {
    method: "POST",
    pattern: "/v1/payment_intents/:id/confirm",
    allowedParams: ["payment_method", "off_session", "return_url"],
    handle: (ctx) => {
      const intent = ctx.state.find("payment_intent", pathParam(ctx, "id"), ctx.account);
      const paymentMethod = optionalString(ctx.params, "payment_method");
      if (paymentMethod) intent.payment_method = paymentMethod;
      return confirmPaymentIntent(ctx.state, intent);
    },
  },
  {
    method: "GET",
    pattern: "/v1/charges/:id",
    allowedParams: [],
    handle: (ctx) => ctx.state.find("charge", pathParam(ctx, "id"), ctx.account),
  },
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
    pattern: "/v1/refunds/:id",
    allowedParams: [],
    handle: (ctx) => ctx.state.find("refund", pathParam(ctx, "id"), ctx.account),
  },
  {
    method: "GET",
    pattern: "/v1/disputes",
    allowedParams: [...LIST_PARAMS, "charge", "payment_intent", "created"],
    handle: (ctx) => listResponse(ctx, ctx.state.collection(`dispute:${ctx.account}`), "/v1/disputes"),
  },
  {
    method: "GET",
    pattern: "/v1/disputes/:id",
    allowedParams: [],
    handle: (ctx) => ctx.state.find("dispute", pathParam(ctx, "id"), ctx.account),
  },
  {
    method: "POST",
    pattern: "/v1/disputes/:id/close",
    allowedParams: [],
    handle: (ctx) =>
      resolveDispute(ctx.state, ctx.state.find("dispute", pathParam(ctx, "id"), ctx.account).id, "lost"),
  },
];
