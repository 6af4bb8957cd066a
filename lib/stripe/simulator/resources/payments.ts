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
import { applicationFeeDetails, processingFeeCents, stripeFeeDetails } from "../money";
import { pathParam, type Route, type RouteContext } from "../router";
import type { SimulatorState } from "../state";
import type { FormObject, StoredObject } from "../types";
import { isRecord } from "../types";
import { collectApplicationFee } from "./application-fees";
import { cancelInvoicePayments, creditInvoicePayments } from "./billing";
import { assertTransferableDestination, createTransferObject } from "./transfers";

const DAY = 86_400;

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
  /** The `application_fee_amount` model: the whole amount is transferred, then this fee collected. */
  applicationFeeAmount?: number;
  /** The `transfer_data[amount]` model: exactly this much is transferred and no fee object exists. */
  transferAmount?: number;
  customer?: string | null;
  paymentMethod?: string;
  description?: string | null;
  transferGroup?: string | null;
  confirm: boolean;
  /** `manual`: confirming only authorises; `POST /v1/payment_intents/:id/capture` takes the money. */
  captureMethod?: "automatic" | "manual";
}

/** Stripe's limits on the two destination-charge models, checked before anything is stored. */
function validateDestinationAmounts(input: DestinationChargeInput): void {
  if (input.applicationFeeAmount !== undefined && input.transferAmount !== undefined)
    throw invalidRequest(
      "You cannot specify both `application_fee_amount` and `transfer_data[amount]`.",
      "parameter_invalid_integer",
      "application_fee_amount",
    );
  if (input.applicationFeeAmount !== undefined && input.applicationFeeAmount > input.amount)
    throw invalidRequest(
      "The application fee cannot exceed the charge amount.",
      "parameter_invalid_integer",
      "application_fee_amount",
    );
  if (input.transferAmount !== undefined && (input.transferAmount < 0 || input.transferAmount > input.amount))
    throw invalidRequest(
      "The transfer amount must be between 0 and the charge amount.",
      "parameter_invalid_integer",
      "transfer_data[amount]",
    );
  if (input.transferAmount !== undefined && !input.destination)
    throw parameterMissing("transfer_data[destination]");
  if (input.captureMethod === "manual" && input.destination)
    throw invalidRequest(
      "The simulator supports capture_method=manual on charges without transfer_data only.",
      "parameter_invalid",
      "capture_method",
    );
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
    capture_method: input.captureMethod ?? "automatic",
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
    transfer_data: input.destination
      ? {
          destination: input.destination,
          ...(input.transferAmount !== undefined ? { amount: input.transferAmount } : {}),
        }
      : null,
    transfer_group: input.transferGroup ?? null,
  });
  state.store("payment_intent", state.platformAccountId, intent);
  return intent;
}

function declineCharge(
  state: SimulatorState,
  intent: StoredObject,
  charge: StoredObject,
  declineCode: string,
): never {
  const platform = state.platformAccountId;
  Object.assign(charge, {
    amount: intent.amount,
    currency: intent.currency,
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

/**
 * Charges the card on the platform (a `charge` balance transaction, less Stripe's processing fee
 * when one is configured). A destination charge then follows Stripe's Connect docs: with
 * `application_fee_amount` the whole amount is transferred to the connected account and the fee
 * collected back from it; with `transfer_data[amount]` exactly that amount is transferred.
 */
export function confirmPaymentIntent(state: SimulatorState, intent: StoredObject): StoredObject {
  const paymentMethod = typeof intent.payment_method === "string" ? intent.payment_method : undefined;
  if (!paymentMethod) throw parameterMissing("payment_method");
  if (intent.status === "succeeded")
    throw invalidRequest("This PaymentIntent has already succeeded.", "payment_intent_unexpected_state");
  const platform = state.platformAccountId;
  const amount = Number(intent.amount);
  const currency = String(intent.currency);
  const transferData = isRecord(intent.transfer_data) ? intent.transfer_data : undefined;
  const destination = typeof transferData?.destination === "string" ? transferData.destination : undefined;
  const statedTransferAmount = typeof transferData?.amount === "number" ? transferData.amount : undefined;
  // Check the destination before any money moves, so a refused charge leaves no trace in balances.
  if (destination) assertTransferableDestination(state, destination);
  const charge = state.build("charge", "ch");
  const declineCode = DECLINING_PAYMENT_METHODS[paymentMethod];
  if (declineCode) declineCharge(state, intent, charge, declineCode);
  if (intent.capture_method === "manual") return authorizeOnly(state, intent, charge, paymentMethod);
  const now = state.now();
  const availableOn = paymentMethod === BYPASS_PENDING_PAYMENT_METHOD ? now : now + 2 * DAY;
  const transaction = state.recordBalanceTransaction({
    owner: platform,
    amount,
    currency,
    type: "charge",
    reportingCategory: "charge",
    source: charge.id,
    description: typeof intent.description === "string" ? intent.description : null,
    feeDetails: stripeFeeDetails(processingFeeCents(amount, state.processingFee()), currency),
    availableOn,
  });
  const applicationFeeAmount =
    destination && statedTransferAmount === undefined && typeof intent.application_fee_amount === "number"
      ? intent.application_fee_amount
      : 0;
  const transferGroup = destination
    ? typeof intent.transfer_group === "string"
      ? intent.transfer_group
      : `group_${intent.id}`
    : null;
  let transferId: string | null = null;
  let applicationFeeId: string | null = null;
  if (destination) {
    const transfer = createTransferObject(state, {
      amount: statedTransferAmount ?? amount,
      currency,
      destination,
      transferGroup,
      sourceTransaction: charge.id,
      availableOn,
      paymentFeeDetails: applicationFeeDetails(applicationFeeAmount, currency),
    });
    transferId = transfer.id;
    if (applicationFeeAmount > 0) {
      const paymentId = String(transfer.destination_payment);
      const fee = collectApplicationFee(state, {
        amount: applicationFeeAmount,
        currency,
        account: destination,
        paymentId,
        chargeId: charge.id,
        availableOn,
      });
      applicationFeeId = fee.id;
      const payment = state.lookup(paymentId)?.object;
      if (payment)
        Object.assign(payment, { application_fee: fee.id, application_fee_amount: applicationFeeAmount });
    }
  }
  Object.assign(charge, {
    amount,
    amount_captured: amount,
    amount_refunded: 0,
    application: null,
    application_fee: applicationFeeId,
    application_fee_amount: applicationFeeId ? applicationFeeAmount : null,
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
    transfer_data: destination ? { amount: statedTransferAmount ?? null, destination } : null,
    transfer_group: transferGroup,
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
  creditInvoicePayments(state, intent, platform);
  return intent;
}

/**
 * capture_method=manual: the card is authorised for the whole amount and nothing moves yet (no
 * balance transaction). The charge is `succeeded` but not `captured`; the PaymentIntent waits in
 * `requires_capture` with `amount_capturable` (payment_intent.amount_capturable_updated).
 */
function authorizeOnly(state: SimulatorState, intent: StoredObject, charge: StoredObject, paymentMethod: string): StoredObject {
  const platform = state.platformAccountId;
  const amount = Number(intent.amount);
  Object.assign(charge, {
    amount,
    amount_captured: 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: null,
    captured: false,
    currency: intent.currency,
    customer: intent.customer ?? null,
    description: intent.description ?? null,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    paid: true,
    payment_intent: intent.id,
    payment_method: paymentMethod,
    refunded: false,
    refunds: { object: "list", data: [], has_more: false, total_count: 0, url: `/v1/charges/${charge.id}/refunds` },
    status: "succeeded",
    transfer: null,
    transfer_data: null,
    transfer_group: null,
    source_transfer: null,
    on_behalf_of: null,
  });
  applyMetadataObject(charge, intent.metadata);
  state.store("charge", platform, charge);
  Object.assign(intent, {
    status: "requires_capture",
    amount_capturable: amount,
    latest_charge: charge.id,
    last_payment_error: null,
  });
  state.emit("charge.succeeded", charge, platform);
  state.emit("payment_intent.amount_capturable_updated", intent, platform);
  return intent;
}

function applyMetadataObject(target: StoredObject, metadata: unknown): void {
  if (isRecord(metadata)) target.metadata = { ...metadata };
}

/**
 * Captures an authorised PaymentIntent, in full or in part (`amount_to_capture`, at most
 * `amount_capturable`). The captured amount becomes a `charge` balance transaction on the platform
 * (less Stripe's processing fee, as any charge); the rest of the authorisation is released and
 * shows on the charge as refunded (`amount_refunded`), with no refund object and no balance
 * transaction. Events: charge.captured, payment_intent.succeeded; an invoice the PaymentIntent is
 * attached to is credited (billing.ts).
 */
function capturePaymentIntent(ctx: RouteContext): StoredObject {
  const { state } = ctx;
  const platform = state.platformAccountId;
  const intent = state.find("payment_intent", pathParam(ctx, "id"), ctx.account);
  if (intent.status !== "requires_capture")
    throw invalidRequest(
      `This PaymentIntent could not be captured because it has a status of ${String(intent.status)}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
      "payment_intent_unexpected_state",
    );
  const capturable = Number(intent.amount_capturable);
  const amount = optionalInteger(ctx.params, "amount_to_capture") ?? capturable;
  if (amount <= 0 || amount > capturable)
    throw invalidRequest(
      `The amount to capture must be a positive integer no greater than the amount capturable (${capturable}).`,
      "amount_too_large",
      "amount_to_capture",
    );
  const charge = state.find("charge", String(intent.latest_charge), platform, "charge");
  const currency = String(intent.currency);
  const now = state.now();
  const transaction = state.recordBalanceTransaction({
    owner: platform,
    amount,
    currency,
    type: "charge",
    reportingCategory: "charge",
    source: charge.id,
    description: typeof intent.description === "string" ? intent.description : null,
    feeDetails: stripeFeeDetails(processingFeeCents(amount, state.processingFee()), currency),
    availableOn: intent.payment_method === BYPASS_PENDING_PAYMENT_METHOD ? now : now + 2 * DAY,
  });
  const previous = { captured: false, amount_captured: 0, balance_transaction: null };
  Object.assign(charge, {
    captured: true,
    amount_captured: amount,
    amount_refunded: Number(charge.amount) - amount,
    balance_transaction: transaction.id,
  });
  Object.assign(intent, { status: "succeeded", amount_received: amount, amount_capturable: 0 });
  applyMetadata(intent, ctx.params);
  state.emit("charge.captured", charge, platform, previous);
  state.emit("payment_intent.succeeded", intent, platform);
  creditInvoicePayments(state, intent, platform);
  return intent;
}

/** Cancels a PaymentIntent that has not succeeded: an authorisation is released in full. */
function cancelPaymentIntent(ctx: RouteContext): StoredObject {
  const { state } = ctx;
  const platform = state.platformAccountId;
  const intent = state.find("payment_intent", pathParam(ctx, "id"), ctx.account);
  if (intent.status === "succeeded" || intent.status === "canceled")
    throw invalidRequest(
      `You cannot cancel this PaymentIntent because it has a status of ${String(intent.status)}.`,
      "payment_intent_unexpected_state",
    );
  if (intent.status === "requires_capture" && typeof intent.latest_charge === "string") {
    const charge = state.find("charge", intent.latest_charge, platform, "charge");
    Object.assign(charge, { amount_refunded: Number(charge.amount), refunded: true });
    state.emit("charge.refunded", charge, platform, { amount_refunded: 0, refunded: false });
  }
  Object.assign(intent, {
    status: "canceled",
    amount_capturable: 0,
    canceled_at: state.now(),
    cancellation_reason: optionalString(ctx.params, "cancellation_reason") ?? null,
  });
  cancelInvoicePayments(state, intent);
  state.emit("payment_intent.canceled", intent, platform);
  return intent;
}

export function createDestinationCharge(state: SimulatorState, input: DestinationChargeInput): StoredObject {
  validateDestinationAmounts(input);
  const intent = buildPaymentIntent(state, input);
  return input.confirm ? confirmPaymentIntent(state, intent) : intent;
}

function transferDataParams(params: FormObject): { destination?: string; amount?: number } {
  const transferData = optionalObject(params, "transfer_data");
  if (!transferData) return {};
  const destination = typeof transferData.destination === "string" ? transferData.destination : undefined;
  const rawAmount = transferData.amount;
  if (rawAmount === undefined) return { destination };
  const amount = typeof rawAmount === "string" && /^\d+$/.test(rawAmount) ? Number(rawAmount) : Number.NaN;
  if (!Number.isSafeInteger(amount))
    throw invalidRequest(
      "Invalid integer: transfer_data[amount]",
      "parameter_invalid_integer",
      "transfer_data[amount]",
    );
  return { destination, amount };
}

function createPaymentIntent(ctx: RouteContext): StoredObject {
  const { params, state } = ctx;
  const transferData = transferDataParams(params);
  const customer = optionalString(params, "customer");
  if (customer) state.find("customer", customer, state.platformAccountId, "customer", "customer");
  const intentInput: DestinationChargeInput = {
    amount: requirePositiveAmount(params),
    currency: requireString(params, "currency").toLowerCase(),
    destination: transferData.destination,
    applicationFeeAmount: optionalInteger(params, "application_fee_amount"),
    transferAmount: transferData.amount,
    customer: customer ?? null,
    paymentMethod: optionalString(params, "payment_method"),
    description: optionalString(params, "description") ?? null,
    transferGroup: optionalString(params, "transfer_group") ?? null,
    confirm: optionalBoolean(params, "confirm") ?? false,
    captureMethod: captureMethodParam(params),
  };
  validateDestinationAmounts(intentInput);
  // Metadata goes on before confirming so the events carry it.
  const intent = buildPaymentIntent(state, intentInput);
  applyMetadata(intent, params);
  return intentInput.confirm ? confirmPaymentIntent(state, intent) : intent;
}

function captureMethodParam(params: FormObject): "automatic" | "manual" {
  const value = optionalString(params, "capture_method") ?? "automatic";
  if (value === "automatic" || value === "automatic_async") return "automatic";
  if (value === "manual") return "manual";
  throw invalidRequest(`Invalid capture_method: must be one of automatic, automatic_async or manual`, "parameter_invalid", "capture_method");
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
  const transferData = transferDataParams(params);
  const input: DestinationChargeInput = {
    amount: requirePositiveAmount(params),
    currency: requireString(params, "currency").toLowerCase(),
    destination: optionalString(params, "destination") ?? transferData.destination,
    applicationFeeAmount: optionalInteger(params, "application_fee_amount"),
    transferAmount: transferData.amount,
    customer: optionalString(params, "customer") ?? null,
    paymentMethod: paymentMethodForSource(optionalString(params, "source") ?? "tok_visa"),
    description: optionalString(params, "description") ?? null,
    transferGroup: optionalString(params, "transfer_group") ?? null,
    confirm: true,
  };
  validateDestinationAmounts(input);
  const intent = buildPaymentIntent(state, input);
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
    method: "POST",
    pattern: "/v1/payment_intents/:id/capture",
    allowedParams: ["amount_to_capture", "metadata", "expand", "final_capture"],
    handle: capturePaymentIntent,
  },
  {
    method: "POST",
    pattern: "/v1/payment_intents/:id/cancel",
    allowedParams: ["cancellation_reason", "expand"],
    handle: cancelPaymentIntent,
  },
  {
    method: "GET",
    pattern: "/v1/charges/:id",
    allowedParams: [],
    handle: (ctx) => ctx.state.find("charge", pathParam(ctx, "id"), ctx.account),
  },
];
