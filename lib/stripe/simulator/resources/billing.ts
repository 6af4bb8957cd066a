import { cardDeclined, invalidRequest, parameterMissing } from "../errors";
import {
  applyMetadata,
  optionalInteger,
  optionalObject,
  optionalString,
  requireInteger,
  requireString,
} from "../form";
import { processingFeeCents, stripeFeeDetails } from "../money";
import { LIST_PARAMS, listResponse, pathParam, type Route, type RouteContext } from "../router";
import type { SimulatorState } from "../state";
import type { StoredObject } from "../types";
import { isRecord } from "../types";

const DAY = 86_400;
/** Customers with this metadata flag fail invoice payment (documented in docs/STRIPE_SIMULATOR.md). */
export const FAIL_PAYMENT_METADATA_KEY = "simulator_payment";

function platformFind(ctx: RouteContext, kind: string, id: string, param = "id"): StoredObject {
  return ctx.state.find(kind, id, ctx.account, kind === "invoiceitem" ? "invoiceitem" : kind, param);
}

function createCustomer(ctx: RouteContext): StoredObject {
  const customer = ctx.state.build("customer", "cus");
  Object.assign(customer, {
    address: null,
    balance: 0,
    currency: null,
    default_source: null,
    delinquent: false,
    description: optionalString(ctx.params, "description") ?? null,
    discount: null,
    email: optionalString(ctx.params, "email") ?? null,
    invoice_prefix: customer.id.slice(-8).toUpperCase(),
    name: optionalString(ctx.params, "name") ?? null,
    next_invoice_sequence: 1,
    phone: optionalString(ctx.params, "phone") ?? null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: "none",
    test_clock: null,
  });
  applyMetadata(customer, ctx.params);
  ctx.state.store("customer", ctx.account, customer);
  ctx.state.emit("customer.created", customer, ctx.account);
  return customer;
}

function lineFromItem(item: StoredObject, invoiceId: string, state: SimulatorState): Record<string, unknown> {
  const line = state.build("line_item", "il");
  Object.assign(line, {
    amount: item.amount,
    currency: item.currency,
    description: item.description,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: invoiceId,
    metadata: item.metadata,
    period: item.period,
    quantity: 1,
    subscription: null,
    pretax_credit_amounts: [],
    taxes: [],
    parent: {
      type: "invoice_item_details",
      invoice_item_details: {
        invoice_item: item.id,
        proration: false,
        proration_details: { credited_items: null },
        subscription: null,
      },
      subscription_item_details: null,
    },
    pricing: { type: "price_details", price_details: null, unit_amount_decimal: String(item.amount) },
    subtotal: item.amount,
    quantity_decimal: "1",
  });
  return line;
}

/** Recomputes totals and lines from the invoice's items (drafts only: finalized invoices are frozen). */
function refreshInvoice(state: SimulatorState, invoice: StoredObject): void {
  const items = state.collection(`invoiceitem:invoice:${invoice.id}`).all();
  const total = items.reduce((sum, item) => sum + Number(item.amount), 0);
  const lines = items.map((item) => lineFromItem(item, invoice.id, state)).reverse();
  Object.assign(invoice, {
    lines: {
      object: "list",
      data: lines.slice(0, 10),
      has_more: lines.length > 10,
      total_count: lines.length,
      url: `/v1/invoices/${invoice.id}/lines`,
    },
    subtotal: total,
    subtotal_excluding_tax: total,
    total,
    total_excluding_tax: total,
    amount_due: total,
    amount_remaining: total - Number(invoice.amount_paid),
  });
}

function createInvoiceItem(ctx: RouteContext): StoredObject {
  const { params, state } = ctx;
  const customerId = requireString(params, "customer");
  const customer = platformFind(ctx, "customer", customerId, "customer");
  const invoiceId = optionalString(params, "invoice");
  const invoice = invoiceId ? platformFind(ctx, "invoice", invoiceId, "invoice") : undefined;
  if (invoice && invoice.status !== "draft")
    throw invalidRequest(
      "You can only add invoice items to draft invoices.",
      "invoice_not_editable",
      "invoice",
    );
  const amount = requireInteger(params, "amount");
  const item = state.build("invoiceitem", "ii");
  const now = state.now();
  Object.assign(item, {
    amount,
    currency: requireString(params, "currency").toLowerCase(),
    customer: customer.id,
    date: now,
    description: optionalString(params, "description") ?? null,
    discountable: true,
    discounts: [],
    invoice: invoice?.id ?? null,
    period: { end: now, start: now },
    proration: false,
    quantity: 1,
    tax_rates: [],
    test_clock: null,
    parent: null,
    pricing: { type: "price_details", price_details: null, unit_amount_decimal: String(amount) },
    net_amount: amount,
    customer_account: null,
    quantity_decimal: "1",
  });
  applyMetadata(item, params);
  state.store(
    "invoiceitem",
    ctx.account,
    item,
    invoice ? [`invoiceitem:invoice:${invoice.id}`] : [`invoiceitem:pending:${customer.id}`],
  );
  if (invoice) refreshInvoice(state, invoice);
  state.emit("invoiceitem.created", item, ctx.account);
  return item;
}

function createInvoice(ctx: RouteContext): StoredObject {
  const { params, state } = ctx;
  const customer = platformFind(ctx, "customer", requireString(params, "customer"), "customer");
  const collectionMethod = optionalString(params, "collection_method") ?? "charge_automatically";
  const daysUntilDue = optionalInteger(params, "days_until_due");
  const dueDate = optionalInteger(params, "due_date");
  if (collectionMethod === "send_invoice" && daysUntilDue === undefined && dueDate === undefined)
    throw parameterMissing("days_until_due");
  const invoice = state.build("invoice", "in");
  const now = state.now();
  Object.assign(invoice, {
    account_country: "US",
    account_name: "Payrun (simulator)",
    amount_paid: 0,
    amount_shipping: 0,
    attempt_count: 0,
    attempted: false,
    auto_advance: collectionMethod === "charge_automatically",
    billing_reason: "manual",
    collection_method: collectionMethod,
    currency: optionalString(params, "currency") ?? state.config.currency,
    customer: customer.id,
    customer_email: customer.email ?? null,
    customer_name: customer.name ?? null,
    description: optionalString(params, "description") ?? null,
    due_date: collectionMethod === "send_invoice" ? (dueDate ?? now + (daysUntilDue ?? 30) * DAY) : null,
    effective_at: null,
    ending_balance: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    last_finalization_error: null,
    next_payment_attempt: null,
    number: null,
    on_behalf_of: null,
    parent: null,
    period_end: now,
    period_start: now,
    receipt_number: null,
    starting_balance: 0,
    status: "draft",
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subscription: null,
    test_clock: null,
    webhooks_delivered_at: null,
    automatically_finalizes_at: null,
    amount_overpaid: 0,
    customer_account: null,
  });
  applyMetadata(invoice, params);
  state.store("invoice", ctx.account, invoice, [`invoice:customer:${customer.id}`]);
  if (optionalString(params, "pending_invoice_items_behavior") === "include") {
    for (const item of state.collection(`invoiceitem:pending:${customer.id}`).all()) {
      if (item.invoice !== null) continue;
      item.invoice = invoice.id;
      state.collection(`invoiceitem:invoice:${invoice.id}`).add(item);
    }
  }
  refreshInvoice(state, invoice);
  state.emit("invoice.created", invoice, ctx.account);
  return invoice;
}

function requireStatus(invoice: StoredObject, allowed: string[], action: string): void {
  if (!allowed.includes(String(invoice.status)))
    throw invalidRequest(
      `You can only ${action} an invoice with status ${allowed.join(" or ")}; this one is ${String(invoice.status)}.`,
      "invoice_unexpected_state",
    );
}

function markPaid(state: SimulatorState, invoice: StoredObject, owner: string): void {
  const now = state.now();
  const amount = Number(invoice.amount_due);
  if (amount > 0) {
    // Stripe pays an invoice through a PaymentIntent; since API 2025-03-31 neither the charge nor
    // the PaymentIntent names the invoice: an InvoicePayment links them.
    const intent = state.build("payment_intent", "pi");
    const charge = state.build("charge", "ch");
    const transaction = state.recordBalanceTransaction({
      owner,
      amount,
      currency: String(invoice.currency),
      type: "charge",
      reportingCategory: "charge",
      source: charge.id,
      feeDetails: stripeFeeDetails(
        processingFeeCents(amount, state.processingFee()),
        String(invoice.currency),
      ),
      availableOn: now + 2 * DAY,
    });
    Object.assign(charge, {
      amount,
      amount_captured: amount,
      amount_refunded: 0,
      balance_transaction: transaction.id,
      currency: invoice.currency,
      customer: invoice.customer,
      paid: true,
      captured: true,
      status: "succeeded",
      payment_intent: intent.id,
      transfer_data: null,
      refunded: false,
      disputed: false,
      refunds: { object: "list", data: [], has_more: false, url: `/v1/charges/${charge.id}/refunds` },
    });
    Object.assign(intent, {
      amount,
      amount_capturable: 0,
      amount_received: amount,
      capture_method: "automatic",
      currency: invoice.currency,
      customer: invoice.customer,
      latest_charge: charge.id,
      payment_method_types: ["card"],
      status: "succeeded",
      transfer_data: null,
      metadata: {},
    });
    state.store("payment_intent", owner, intent);
    state.store("charge", owner, charge);
    const invoicePayment = state.build("invoice_payment", "inpay");
    Object.assign(invoicePayment, {
      amount_paid: amount,
      amount_requested: amount,
      currency: invoice.currency,
      invoice: invoice.id,
      is_default: true,
      payment: { type: "payment_intent", payment_intent: intent.id },
      status: "paid",
      status_transitions: { canceled_at: null, paid_at: now },
    });
    state.store("invoice_payment", owner, invoicePayment, [
      `invoice_payment:invoice:${String(invoice.id)}`,
      `invoice_payment:payment_intent:${String(intent.id)}`,
    ]);
  }
  const transitions = isRecord(invoice.status_transitions) ? invoice.status_transitions : {};
  Object.assign(invoice, {
    status: "paid",
    amount_paid: amount,
    amount_remaining: 0,
    attempted: true,
    attempt_count: Number(invoice.attempt_count) + 1,
    status_transitions: { ...transitions, paid_at: now },
    ending_balance: 0,
  });
  state.emit("invoice.paid", invoice, owner);
  state.emit("invoice.payment_succeeded", invoice, owner);
}

function finalize(ctx: RouteContext): StoredObject {
  const { state } = ctx;
  const invoice = platformFind(ctx, "invoice", pathParam(ctx, "id"));
  requireStatus(invoice, ["draft"], "finalize");
  const customer = state.lookup(String(invoice.customer))?.object;
  const sequence = Number(customer?.next_invoice_sequence ?? 1);
  if (customer) customer.next_invoice_sequence = sequence + 1;
  const now = state.now();
  const transitions = isRecord(invoice.status_transitions) ? invoice.status_transitions : {};
  Object.assign(invoice, {
    status: "open",
    number: `${String(customer?.invoice_prefix ?? "SIM")}-${String(sequence).padStart(4, "0")}`,
    effective_at: now,
    hosted_invoice_url: `https://invoice.stripe.com/i/acct_sim/test_${invoice.id}`,
    invoice_pdf: `https://pay.stripe.com/invoice/acct_sim/test_${invoice.id}/pdf`,
    status_transitions: { ...transitions, finalized_at: now },
    starting_balance: 0,
  });
  state.emit("invoice.finalized", invoice, ctx.account);
  // Stripe marks a zero-amount invoice paid as soon as it is finalized.
  if (Number(invoice.amount_due) === 0) markPaid(state, invoice, ctx.account);
  return invoice;
}

function pay(ctx: RouteContext): StoredObject {
  const { state } = ctx;
  const invoice = platformFind(ctx, "invoice", pathParam(ctx, "id"));
  requireStatus(invoice, ["open", "uncollectible"], "pay");
  const customer = state.lookup(String(invoice.customer))?.object;
  const metadata = customer && isRecord(customer.metadata) ? customer.metadata : {};
  if (metadata[FAIL_PAYMENT_METADATA_KEY] === "fail") {
    invoice.attempted = true;
    invoice.attempt_count = Number(invoice.attempt_count) + 1;
    state.emit("invoice.payment_failed", invoice, ctx.account);
    throw cardDeclined("generic_decline", "Your card was declined.");
  }
  markPaid(state, invoice, ctx.account);
  return invoice;
}

function transition(ctx: RouteContext, status: "void" | "uncollectible"): StoredObject {
  const invoice = platformFind(ctx, "invoice", pathParam(ctx, "id"));
  requireStatus(
    invoice,
    status === "void" ? ["open", "uncollectible"] : ["open"],
    status === "void" ? "void" : "mark uncollectible",
  );
  const now = ctx.state.now();
  const transitions = isRecord(invoice.status_transitions) ? invoice.status_transitions : {};
  invoice.status = status;
  if (status === "void") invoice.status_transitions = { ...transitions, voided_at: now };
  else invoice.status_transitions = { ...transitions, marked_uncollectible_at: now };
  ctx.state.emit(status === "void" ? "invoice.voided" : "invoice.marked_uncollectible", invoice, ctx.account);
  return invoice;
}

/** Stripe enforces an identifier's uniqueness "within a rolling period of at least 24 hours". */
export const METER_EVENT_IDENTIFIER_WINDOW_SECONDS = 24 * 3600;

/**
 * Stripe's invoice payments (API 2025-05-28 and later): a PaymentIntent attached to an open invoice
 * (`POST /v1/invoices/:id/attach_payment`) is an `invoice_payment` of status `open`; when the
 * PaymentIntent succeeds (an authorisation captured in full or in part) the amount received is
 * credited to the invoice (amount_paid up, amount_remaining down), the invoice payment becomes `paid`
 * (invoice_payment.paid) and, once nothing remains, the invoice is `paid` (invoice.paid). A partial
 * capture leaves the invoice open for the rest. A cancelled PaymentIntent cancels its invoice payment.
 */
function attachPayment(ctx: RouteContext): StoredObject {
  const { state } = ctx;
  const invoice = platformFind(ctx, "invoice", pathParam(ctx, "id"));
  const intentId = optionalString(ctx.params, "payment_intent");
  if (!intentId) throw parameterMissing("payment_intent");
  const intent = state.find("payment_intent", intentId, ctx.account, "payment_intent", "payment_intent");
  requireStatus(invoice, ["open"], "attach a payment to");
  if (String(intent.currency) !== String(invoice.currency))
    throw invalidRequest("The PaymentIntent's currency must match the invoice's.", "invoice_payment_currency_mismatch", "payment_intent");
  if (intent.customer && intent.customer !== invoice.customer)
    throw invalidRequest("The PaymentIntent belongs to another customer.", "invoice_payment_customer_mismatch", "payment_intent");
  const existing = state.collection(`invoice_payment:payment_intent:${intent.id}`).all();
  if (existing.some((p) => p.invoice === invoice.id)) return invoice;
  if (existing.some((p) => p.status !== "canceled"))
    throw invalidRequest("This PaymentIntent is already attached to another invoice.", "invoice_payment_already_attached", "payment_intent");
  if (intent.status === "canceled")
    throw invalidRequest("You cannot attach a canceled PaymentIntent.", "payment_intent_unexpected_state", "payment_intent");
  const payment = state.build("invoice_payment", "inpay");
  Object.assign(payment, {
    amount_paid: null,
    amount_requested: Number(intent.amount),
    currency: intent.currency,
    invoice: invoice.id,
    is_default: false,
    payment: { type: "payment_intent", payment_intent: intent.id },
    status: "open",
    status_transitions: { canceled_at: null, paid_at: null },
  });
  state.store("invoice_payment", ctx.account, payment, [
    `invoice_payment:invoice:${invoice.id}`,
    `invoice_payment:payment_intent:${intent.id}`,
  ]);
  if (intent.status === "succeeded") creditInvoicePayments(state, intent, ctx.account);
  return invoice;
}

/** The PaymentIntent succeeded: credit what it received to the invoice it is attached to. */
export function creditInvoicePayments(state: SimulatorState, intent: StoredObject, owner: string): void {
  for (const payment of state.collection(`invoice_payment:payment_intent:${intent.id}`).all()) {
    if (payment.status !== "open") continue;
    const invoice = state.lookup(String(payment.invoice))?.object;
    if (invoice?.status !== "open") continue;
    const received = Number(intent.amount_received);
    const applied = Math.min(received, Number(invoice.amount_remaining));
    const now = state.now();
    Object.assign(payment, {
      amount_paid: applied,
      status: "paid",
      status_transitions: { canceled_at: null, paid_at: now },
    });
    state.emit("invoice_payment.paid", payment, owner);
    const previous = { amount_paid: invoice.amount_paid, amount_remaining: invoice.amount_remaining };
    invoice.amount_paid = Number(invoice.amount_paid) + applied;
    invoice.amount_remaining = Number(invoice.amount_due) - Number(invoice.amount_paid);
    invoice.attempted = true;
    invoice.attempt_count = Number(invoice.attempt_count) + 1;
    if (Number(invoice.amount_remaining) <= 0) {
      const transitions = isRecord(invoice.status_transitions) ? invoice.status_transitions : {};
      Object.assign(invoice, {
        status: "paid",
        amount_remaining: 0,
        status_transitions: { ...transitions, paid_at: now },
        ending_balance: 0,
      });
      state.emit("invoice.paid", invoice, owner);
      state.emit("invoice.payment_succeeded", invoice, owner);
    } else {
      state.emit("invoice.updated", invoice, owner, previous);
    }
  }
}

/** The PaymentIntent was cancelled (its authorisation released): its open invoice payments are cancelled. */
export function cancelInvoicePayments(state: SimulatorState, intent: StoredObject): void {
  for (const payment of state.collection(`invoice_payment:payment_intent:${intent.id}`).all()) {
    if (payment.status !== "open") continue;
    payment.status = "canceled";
    payment.status_transitions = { canceled_at: state.now(), paid_at: null };
  }
}

function createMeterEvent(ctx: RouteContext): StoredObject {
  const { params, state } = ctx;
  const eventName = requireString(params, "event_name");
  const payload = optionalObject(params, "payload");
  if (!payload) throw parameterMissing("payload");
  if (typeof payload.stripe_customer_id !== "string") throw parameterMissing("payload[stripe_customer_id]");
  if (typeof payload.value !== "string") throw parameterMissing("payload[value]");
  if (!/^-?\d+$/.test(payload.value))
    throw invalidRequest("The value in the payload must be a whole number.", "parameter_invalid_integer", "payload[value]");
  const now = state.now();
  // Stripe takes a timestamp within the past 35 calendar days and at most 5 minutes ahead.
  const timestamp = optionalInteger(params, "timestamp") ?? now;
  if (timestamp < now - 35 * DAY || timestamp > now + 300)
    throw invalidRequest(
      "Timestamp must be within the past 35 calendar days and no more than 5 minutes in the future.",
      "timestamp_out_of_range",
      "timestamp",
    );
  const identifier = optionalString(params, "identifier") ?? `sim_${Math.random().toString(36).slice(2)}`;
  const earlier = state.collection(`meter_event:identifier:${identifier}`).all().at(-1);
  if (earlier && Number(earlier.created) > now - METER_EVENT_IDENTIFIER_WINDOW_SECONDS)
    throw invalidRequest(
      `A meter event with identifier ${identifier} already exists.`,
      "resource_already_exists",
      "identifier",
    );
  const event = state.build("billing.meter_event", "mtrevt");
  Object.assign(event, {
    created: now,
    event_name: eventName,
    identifier,
    payload: { ...payload },
    timestamp,
  });
  state.store("billing.meter_event", ctx.account, event, [`meter_event:identifier:${identifier}`]);
  // Meter events carry no id on the wire; the internal one only serves the request log.
  const wire = { ...event } as Record<string, unknown>;
  delete wire.id;
  return wire as StoredObject;
}

export const billingRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/customers",
    allowedParams: [
      "email",
      "name",
      "description",
      "metadata",
      "phone",
      "address",
      "preferred_locales",
      "invoice_settings",
    ],
    handle: createCustomer,
  },
  {
    method: "GET",
    pattern: "/v1/customers/:id",
    allowedParams: [],
    handle: (ctx) => platformFind(ctx, "customer", pathParam(ctx, "id")),
  },
  {
    method: "POST",
    pattern: "/v1/invoiceitems",
    allowedParams: [
      "customer",
      "amount",
      "currency",
      "description",
      "invoice",
      "metadata",
      "period",
      "discountable",
    ],
    handle: createInvoiceItem,
  },
  {
    method: "GET",
    pattern: "/v1/invoiceitems/:id",
    allowedParams: [],
    handle: (ctx) => platformFind(ctx, "invoiceitem", pathParam(ctx, "id")),
  },
  {
    method: "POST",
    pattern: "/v1/invoices",
    allowedParams: [
      "customer",
      "collection_method",
      "days_until_due",
      "due_date",
      "metadata",
      "description",
      "auto_advance",
      "currency",
      "pending_invoice_items_behavior",
      "footer",
    ],
    handle: createInvoice,
  },
  {
    method: "GET",
    pattern: "/v1/invoices",
    allowedParams: [...LIST_PARAMS, "customer", "status", "collection_method", "created"],
    handle: (ctx) => {
      const customer = optionalString(ctx.params, "customer");
      const status = optionalString(ctx.params, "status");
      const collection = ctx.state.collection(
        customer ? `invoice:customer:${customer}` : `invoice:${ctx.account}`,
      );
      return listResponse(
        ctx,
        collection,
        "/v1/invoices",
        status ? (invoice) => invoice.status === status : undefined,
      );
    },
  },
  {
    method: "GET",
    pattern: "/v1/invoices/:id",
    allowedParams: [],
    handle: (ctx) => platformFind(ctx, "invoice", pathParam(ctx, "id")),
  },
  { method: "POST", pattern: "/v1/invoices/:id/finalize", allowedParams: ["auto_advance"], handle: finalize },
  {
    method: "POST",
    pattern: "/v1/invoices/:id/send",
    allowedParams: [],
    handle: (ctx) => {
      const invoice = platformFind(ctx, "invoice", pathParam(ctx, "id"));
      requireStatus(invoice, ["open"], "send");
      ctx.state.emit("invoice.sent", invoice, ctx.account);
      return invoice;
    },
  },
  {
    method: "POST",
    pattern: "/v1/invoices/:id/pay",
    allowedParams: ["paid_out_of_band", "payment_method", "source", "off_session", "forgive"],
    handle: pay,
  },
  {
    method: "POST",
    pattern: "/v1/invoices/:id/void",
    allowedParams: [],
    handle: (ctx) => transition(ctx, "void"),
  },
  {
    method: "POST",
    pattern: "/v1/invoices/:id/mark_uncollectible",
    allowedParams: [],
    handle: (ctx) => transition(ctx, "uncollectible"),
  },
  {
    method: "POST",
    pattern: "/v1/invoices/:id/attach_payment",
    allowedParams: ["payment_intent", "expand"],
    handle: attachPayment,
  },
  {
    method: "GET",
    pattern: "/v1/invoice_payments",
    allowedParams: [...LIST_PARAMS, "invoice", "status", "payment", "created", "expand"],
    handle: (ctx) => {
      const invoice = optionalString(ctx.params, "invoice");
      const status = optionalString(ctx.params, "status");
      const payment = optionalObject(ctx.params, "payment");
      const intent = typeof payment?.payment_intent === "string" ? payment.payment_intent : undefined;
      const key = invoice
        ? `invoice_payment:invoice:${invoice}`
        : intent
          ? `invoice_payment:payment_intent:${intent}`
          : `invoice_payment:${ctx.account}`;
      return listResponse(
        ctx,
        ctx.state.collection(key),
        "/v1/invoice_payments",
        status || (invoice && intent)
          ? (p) =>
              (!status || p.status === status) &&
              (!intent || (isRecord(p.payment) && p.payment.payment_intent === intent))
          : undefined,
      );
    },
  },
  {
    method: "GET",
    pattern: "/v1/invoice_payments/:id",
    allowedParams: ["expand"],
    handle: (ctx) => ctx.state.find("invoice_payment", pathParam(ctx, "id"), ctx.account, "invoice payment"),
  },
  {
    method: "POST",
    pattern: "/v1/billing/meter_events",
    allowedParams: ["event_name", "payload", "identifier", "timestamp"],
    handle: createMeterEvent,
  },
];
