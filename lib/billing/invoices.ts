import { createHash, randomUUID } from "node:crypto";
import { and, desc, eq, sql } from "drizzle-orm";
import type Stripe from "stripe";
import type { Db } from "../../db/client";
import {
  type BillingInvoiceOperation,
  billingInvoiceOperations,
  billingInvoices,
  placementInvoices,
  placements,
} from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import type { Env } from "../env";
import { DomainError, notFound } from "../errors";
import { errorText } from "../observability/log";
import { StripeGatewayError } from "../stripe/errors";
import type { StripeGateway } from "../stripe/gateway";
import { applyCapture, applyRefund, refreshTotals } from "./invoices-ledger";
import { readTimeline, recordTimelineEntry, type TimelineEntry } from "./timeline";

// Invoice payments (docs/BILLING.md "Invoices: capture, refund, timeline"), as Stripe documents
// them: the client's card is authorised for the invoice (a PaymentIntent with capture_method=manual,
// attached to the open invoice with attach_payment), captured in full or in part later (the rest of
// the authorisation is released, and the invoice is credited what was captured), and refunded in
// full or in part on the PaymentIntent. Every Stripe write has a key derived from a row stored
// before the call; capture and refund are recorded as operations under the caller's
// Idempotency-Key, so a replay answers as the first time.

export type InvoiceGateway = Pick<
  StripeGateway,
  "createAuthorisation" | "attachInvoicePayment" | "capturePaymentIntent" | "createRefund" | "retrieveInvoice"
>;

export type RolloutStage = Env["BILLING_ROLLOUT_STAGE"];

/** Refund reasons (a fixed list finance reads with the adjustment reasons). */
export const refundReasons = [
  { code: "client_request", label: "The client asked for it" },
  { code: "duplicate", label: "Paid twice" },
  { code: "billing_error", label: "Invoiced in error or for too much" },
  { code: "guarantee_replacement", label: "Candidate left within the guarantee" },
  { code: "service_issue", label: "Service not delivered as agreed" },
  { code: "fraudulent", label: "Fraudulent payment" },
] as const;
export type RefundReasonCode = (typeof refundReasons)[number]["code"];
export const refundReasonCodes = refundReasons.map((r) => r.code) as [
  RefundReasonCode,
  ...RefundReasonCode[],
];

export type InvoiceView = {
  id: string;
  placementId: string;
  clientName: string | null;
  clientStripeCustomerId: string | null;
  candidateName: string | null;
  status: string;
  amountCents: number;
  currency: string;
  stripeInvoiceId: string | null;
  hostedInvoiceUrl: string | null;
  billingPilot: boolean;
  stripePaymentIntentId: string | null;
  stripeChargeId: string | null;
  authorisedCents: number;
  capturedCents: number;
  refundedCents: number;
  /** What a capture may take now (an authorisation not yet captured). */
  capturableCents: number;
  /** What a refund may give back now. */
  refundableCents: number;
  settledAt: Date | null;
  finalizedAt: Date | null;
  paidAt: Date | null;
  voidedAt: Date | null;
  createdAt: Date;
  timeline: TimelineEntry[];
};

async function loadInvoice(db: Db, invoiceId: string) {
  const [row] = await db
    .select({ invoice: placementInvoices, placement: placements, billing: billingInvoices })
    .from(placementInvoices)
    .innerJoin(placements, eq(placements.id, placementInvoices.placementId))
    .leftJoin(billingInvoices, eq(billingInvoices.placementInvoiceId, placementInvoices.id))
    .where(eq(placementInvoices.id, invoiceId));
  if (!row) throw notFound("invoice");
  return row;
}

/** An invoice with its payment state and its timeline (cumulative captured/refunded, settlement time). */
export async function getInvoiceView(db: Db, invoiceId: string): Promise<InvoiceView> {
  const { invoice, placement, billing } = await loadInvoice(db, invoiceId);
  const timeline = await readTimeline(db, invoiceId);
  const authorised = billing?.authorisedCents ?? 0;
  const captured = timeline.capturedCents;
  const refunded = timeline.refundedCents;
  return {
    id: invoice.id,
    placementId: invoice.placementId,
    clientName: placement.clientName,
    clientStripeCustomerId: invoice.clientStripeCustomerId ?? placement.clientStripeCustomerId,
    candidateName: placement.candidateName,
    status: invoice.status,
    amountCents: invoice.amountCents,
    currency: invoice.currency,
    stripeInvoiceId: invoice.stripeInvoiceId,
    hostedInvoiceUrl: invoice.hostedInvoiceUrl,
    billingPilot: billing?.billingPilot ?? false,
    stripePaymentIntentId: billing?.stripePaymentIntentId ?? null,
    stripeChargeId: billing?.stripeChargeId ?? null,
    authorisedCents: authorised,
    capturedCents: captured,
    refundedCents: refunded,
    // A partial capture releases the rest: once anything is captured, nothing more is capturable.
    capturableCents: billing?.stripePaymentIntentId && captured === 0 ? authorised : 0,
    refundableCents: Math.max(0, captured - refunded),
    settledAt: timeline.settledAt,
    finalizedAt: invoice.finalizedAt,
    paidAt: invoice.paidAt,
    voidedAt: invoice.voidedAt,
    createdAt: invoice.createdAt,
    timeline: timeline.entries,
  };
}

/** Invoices with a Stripe invoice, newest first, for the billing page (bounded). */
export async function listBillableInvoices(db: Db, limit = 50): Promise<InvoiceView[]> {
  const rows = await db
    .select({ id: placementInvoices.id })
    .from(placementInvoices)
    .where(sql`${placementInvoices.stripeInvoiceId} is not null`)
    .orderBy(desc(placementInvoices.createdAt), desc(placementInvoices.id))
    .limit(limit);
  const views: InvoiceView[] = [];
  for (const row of rows) views.push(await getInvoiceView(db, row.id));
  return views;
}

/**
 * BILLING_ROLLOUT_STAGE: `off` refuses every capture, refund and authorisation; `pilot` only those
 * of invoices whose billing party is flagged (billing_invoices.billing_pilot); `general` all.
 */
export function assertRolloutAllows(stage: RolloutStage, billingPilot: boolean): void {
  if (stage === "general") return;
  if (stage === "pilot" && billingPilot) return;
  throw new DomainError(
    "conflict",
    stage === "off"
      ? "invoice capture and refund are switched off (BILLING_ROLLOUT_STAGE=off); nothing was done"
      : "invoice capture and refund are in pilot and this invoice's client is not in the pilot (BILLING_ROLLOUT_STAGE=pilot); nothing was done",
    { rolloutStage: stage },
  );
}

/** Put an invoice's billing party in (or out of) the pilot. Audited. */
export async function setBillingPilot(
  db: Db,
  input: { invoiceId: string; pilot: boolean; actor: Actor },
): Promise<void> {
  await loadInvoice(db, input.invoiceId);
  await db.transaction(async (tx) => {
    await tx
      .insert(billingInvoices)
      .values({ placementInvoiceId: input.invoiceId, billingPilot: input.pilot })
      .onConflictDoUpdate({
        target: billingInvoices.placementInvoiceId,
        set: { billingPilot: input.pilot, updatedAt: new Date() },
      });
    await recordAudit(tx, {
      actor: input.actor,
      action: "billing_invoice.pilot_set",
      entityType: "placement_invoice",
      entityId: input.invoiceId,
      after: { billingPilot: input.pilot },
    });
  });
}

const stripeMessage = (error: unknown) =>
  error instanceof StripeGatewayError ? error.classified.message : errorText(error);

/**
 * Authorise the client's card for what the open invoice still owes: a PaymentIntent with
 * capture_method=manual (confirmed off-session with the client's saved card), attached to the Stripe
 * invoice. Its keys derive from the invoice row (stored in billing_invoices before the first call),
 * so a retry makes nothing twice. Recorded on the timeline with the invoice's creation and finalization.
 */
export async function authoriseInvoicePayment(
  db: Db,
  gateway: InvoiceGateway,
  input: { invoiceId: string; paymentMethod?: string; actor: Actor; stage: RolloutStage },
): Promise<InvoiceView> {
  const { invoice, billing } = await loadInvoice(db, input.invoiceId);
  assertRolloutAllows(input.stage, billing?.billingPilot ?? false);
  if (!invoice.stripeInvoiceId || invoice.status !== "open")
    throw new DomainError(
      "conflict",
      `only an open invoice can be authorised; this one is ${invoice.status}`,
    );
  if (billing?.stripePaymentIntentId) return getInvoiceView(db, invoice.id);
  const key = billing?.authoriseKey ?? `billing_invoice:${invoice.id}:authorise`;
  await db
    .insert(billingInvoices)
    .values({ placementInvoiceId: invoice.id, authoriseKey: key })
    .onConflictDoUpdate({
      target: billingInvoices.placementInvoiceId,
      set: { authoriseKey: sql`coalesce(${billingInvoices.authoriseKey}, ${key})` },
    });
  const stripeInvoice = await gateway.retrieveInvoice(invoice.stripeInvoiceId);
  const intent = await gateway.createAuthorisation({
    amount: stripeInvoice.amount_remaining,
    currency: stripeInvoice.currency,
    customer:
      typeof stripeInvoice.customer === "string" ? stripeInvoice.customer : stripeInvoice.customer!.id,
    paymentMethod: input.paymentMethod,
    description: `invoice ${stripeInvoice.number ?? stripeInvoice.id}`,
    metadata: { placement_invoice_id: invoice.id, stripe_invoice_id: invoice.stripeInvoiceId },
    idempotencyKey: `${key}:payment_intent`,
  });
  if (intent.status !== "requires_capture")
    throw new DomainError(
      "conflict",
      `the card was not authorised (payment intent ${intent.id} is ${intent.status})`,
    );
  await gateway.attachInvoicePayment(invoice.stripeInvoiceId, intent.id, `${key}:attach`);
  const chargeId =
    typeof intent.latest_charge === "string" ? intent.latest_charge : (intent.latest_charge?.id ?? null);
  await db.transaction(async (tx) => {
    await recordInvoiceLifecycle(tx, invoice.id, stripeInvoice, "api");
    await recordTimelineEntry(tx, {
      placementInvoiceId: invoice.id,
      kind: "authorised",
      occurredAt: new Date(intent.created * 1000),
      amountCents: intent.amount_capturable,
      currency: intent.currency,
      sourceId: intent.id,
      stripeIds: { invoice: invoice.stripeInvoiceId, payment_intent: intent.id, charge: chargeId },
      origin: "api",
    });
    await refreshTotals(tx, invoice.id, { paymentIntentId: intent.id, chargeId });
    await tx
      .update(billingInvoices)
      .set({ authorisedCents: intent.amount_capturable, updatedAt: new Date() })
      .where(eq(billingInvoices.placementInvoiceId, invoice.id));
    await recordAudit(tx, {
      actor: input.actor,
      action: "billing_invoice.authorised",
      entityType: "placement_invoice",
      entityId: invoice.id,
      after: { paymentIntent: intent.id, amountCents: intent.amount_capturable, currency: intent.currency },
    });
  });
  return getInvoiceView(db, invoice.id);
}

/** created / finalized / paid / voided, from a Stripe invoice object (our read or a webhook's). */
export async function recordInvoiceLifecycle(
  tx: Db,
  placementInvoiceId: string,
  invoice: Stripe.Invoice,
  origin: "api" | "webhook",
  stripeEventId?: string,
): Promise<void> {
  const at = (unix: number | null | undefined) => (unix ? new Date(unix * 1000) : null);
  const base = {
    placementInvoiceId,
    currency: invoice.currency,
    sourceId: invoice.id!,
    stripeIds: { invoice: invoice.id! },
    origin,
    stripeEventId,
  };
  const steps: [TimelineEntry["kind"], Date | null, number | null][] = [
    ["created", at(invoice.created), invoice.amount_due],
    ["finalized", at(invoice.status_transitions?.finalized_at), invoice.amount_due],
    ["paid", invoice.status === "paid" ? at(invoice.status_transitions?.paid_at) : null, invoice.amount_paid],
    ["voided", at(invoice.status_transitions?.voided_at), null],
  ];
  for (const [kind, occurredAt, amountCents] of steps) {
    if (occurredAt) await recordTimelineEntry(tx, { ...base, kind, occurredAt, amountCents });
  }
}

// ---- capture and refund: operations under the caller's Idempotency-Key ----

type OperationRequest = {
  kind: "capture" | "refund";
  invoiceId: string;
  amountCents: number | null;
  reasonCode?: string | null;
  note?: string | null;
  requestKey: string;
  actor: Actor;
};

const fingerprint = (r: OperationRequest) =>
  createHash("sha256")
    .update(JSON.stringify([r.kind, r.invoiceId, r.amountCents, r.reasonCode ?? null, r.note ?? null]))
    .digest("hex");

async function findOperation(db: Db, kind: "capture" | "refund", requestKey: string) {
  const [op] = await db
    .select()
    .from(billingInvoiceOperations)
    .where(and(eq(billingInvoiceOperations.kind, kind), eq(billingInvoiceOperations.requestKey, requestKey)));
  return op;
}

/** The same key again: the first answer, or a 409 when the request under it differs. */
function replayable(op: BillingInvoiceOperation, hash: string): "resume" | InvoiceView {
  if (op.requestHash !== hash)
    throw new DomainError(
      "conflict",
      `this Idempotency-Key was already used for a different ${op.kind} request`,
      {
        idempotencyKey: op.requestKey,
      },
    );
  if (op.status === "succeeded") return op.response as unknown as InvoiceView;
  if (op.status === "failed")
    throw new DomainError("conflict", op.error ?? `the ${op.kind} failed`, { operation: op.id });
  return "resume";
}

/** Store the operation (pending) with its Stripe key before any call; a concurrent twin gets the stored one. */
async function startOperation(db: Db, r: OperationRequest, hash: string): Promise<BillingInvoiceOperation> {
  const id = randomUUID();
  const [op] = await db
    .insert(billingInvoiceOperations)
    .values({
      id,
      placementInvoiceId: r.invoiceId,
      kind: r.kind,
      requestKey: r.requestKey,
      requestHash: hash,
      requestedCents: r.amountCents,
      reasonCode: r.reasonCode ?? null,
      note: r.note ?? null,
      stripeIdempotencyKey: `billing_operation:${id}:${r.kind}`,
      createdBy: r.actor.id,
    })
    .onConflictDoNothing()
    .returning();
  return op ?? (await findOperation(db, r.kind, r.requestKey))!;
}

async function failOperation(
  db: Db,
  op: BillingInvoiceOperation,
  error: unknown,
  actor: Actor,
): Promise<never> {
  const message = `Stripe refused the ${op.kind}: ${stripeMessage(error)}`.slice(0, 1000);
  await db.transaction(async (tx) => {
    await tx
      .update(billingInvoiceOperations)
      .set({ status: "failed", error: message, completedAt: new Date() })
      .where(and(eq(billingInvoiceOperations.id, op.id), eq(billingInvoiceOperations.status, "pending")));
    await recordAudit(tx, {
      actor,
      action: `billing_invoice.${op.kind}_failed`,
      entityType: "placement_invoice",
      entityId: op.placementInvoiceId,
      after: { operation: op.id, error: message },
    });
  });
  throw new DomainError("conflict", message, { operation: op.id });
}

async function finishOperation(
  tx: Db,
  op: BillingInvoiceOperation,
  result: { stripeObjectId: string; amountCents: number },
  actor: Actor,
): Promise<InvoiceView> {
  const view = await getInvoiceView(tx, op.placementInvoiceId);
  const response = JSON.parse(JSON.stringify(view)) as Record<string, unknown>;
  await tx
    .update(billingInvoiceOperations)
    .set({
      status: "succeeded",
      stripeObjectId: result.stripeObjectId,
      amountCents: result.amountCents,
      response,
      completedAt: new Date(),
    })
    .where(eq(billingInvoiceOperations.id, op.id));
  await recordAudit(tx, {
    actor,
    action: `billing_invoice.${op.kind}_requested`,
    entityType: "placement_invoice",
    entityId: op.placementInvoiceId,
    after: {
      operation: op.id,
      stripeObject: result.stripeObjectId,
      amountCents: result.amountCents,
      requestedCents: op.requestedCents,
    },
    reason: op.note ?? op.reasonCode ?? null,
  });
  return response as unknown as InvoiceView;
}

const isRetryable = (error: unknown) => error instanceof StripeGatewayError && error.retryable;

/**
 * Capture the invoice's authorised payment, in full (`amountCents` null) or in part (the rest of the
 * authorisation is released). Refused with nothing written outside the rollout stage, without an
 * authorisation, once captured, or for more than is capturable.
 */
export async function captureInvoice(
  db: Db,
  gateway: InvoiceGateway,
  input: {
    invoiceId: string;
    amountCents: number | null;
    requestKey: string;
    actor: Actor;
    stage: RolloutStage;
  },
): Promise<InvoiceView> {
  const request: OperationRequest = { kind: "capture", ...input };
  const hash = fingerprint(request);
  let op = await findOperation(db, "capture", input.requestKey);
  if (op) {
    const replay = replayable(op, hash);
    if (replay !== "resume") return replay;
  } else {
    const view = await getInvoiceView(db, input.invoiceId);
    assertRolloutAllows(input.stage, view.billingPilot);
    if (!view.stripePaymentIntentId)
      throw new DomainError("conflict", "this invoice has no authorised payment to capture");
    if (view.capturableCents === 0)
      throw new DomainError(
        "conflict",
        "this invoice's payment is already captured; nothing is left to capture",
      );
    if (input.amountCents !== null && input.amountCents > view.capturableCents)
      throw new DomainError(
        "invalid_input",
        `amountCents ${input.amountCents} is more than the ${view.capturableCents} authorised`,
      );
    op = await startOperation(db, request, hash);
    const replay = replayable(op, hash);
    if (replay !== "resume") return replay;
  }
  const { invoice, billing } = await loadInvoice(db, op.placementInvoiceId);
  let intent: Stripe.PaymentIntent;
  try {
    intent = await gateway.capturePaymentIntent({
      paymentIntent: billing!.stripePaymentIntentId!,
      amountToCapture: op.requestedCents ?? undefined,
      idempotencyKey: op.stripeIdempotencyKey,
    });
  } catch (error) {
    // A timeout or a 5xx: Stripe may have captured. The operation stays pending; the same key resumes it.
    if (isRetryable(error)) throw error;
    return failOperation(db, op, error, input.actor);
  }
  const charge = intent.latest_charge as Stripe.Charge;
  const bt = charge.balance_transaction as Stripe.BalanceTransaction;
  const operation = op;
  return db.transaction(async (tx) => {
    await applyCapture(tx, {
      placementInvoiceId: invoice.id,
      stripeInvoiceId: invoice.stripeInvoiceId,
      paymentIntentId: intent.id,
      chargeId: charge.id,
      balanceTransactionId: bt.id,
      amountCents: bt.amount,
      currency: bt.currency,
      capturedAt: new Date(bt.created * 1000),
      availableOn: bt.available_on ? new Date(bt.available_on * 1000) : null,
      origin: "api",
      actor: input.actor,
    });
    return finishOperation(tx, operation, { stripeObjectId: charge.id, amountCents: bt.amount }, input.actor);
  });
}

/**
 * Refund the invoice's captured payment, in full (`amountCents` null: what is left to refund) or in
 * part, with a reason code. Refused with nothing written outside the rollout stage, before a
 * capture, or for more than is refundable.
 */
export async function refundInvoice(
  db: Db,
  gateway: InvoiceGateway,
  input: {
    invoiceId: string;
    amountCents: number | null;
    reasonCode: RefundReasonCode;
    note?: string | null;
    requestKey: string;
    actor: Actor;
    stage: RolloutStage;
  },
): Promise<InvoiceView> {
  const request: OperationRequest = { kind: "refund", ...input };
  const hash = fingerprint(request);
  let op = await findOperation(db, "refund", input.requestKey);
  if (op) {
    const replay = replayable(op, hash);
    if (replay !== "resume") return replay;
  } else {
    const view = await getInvoiceView(db, input.invoiceId);
    assertRolloutAllows(input.stage, view.billingPilot);
    if (view.refundableCents === 0)
      throw new DomainError(
        "conflict",
        view.capturedCents === 0
          ? "nothing has been captured on this invoice yet"
          : "everything captured has been refunded",
      );
    if (input.amountCents !== null && input.amountCents > view.refundableCents)
      throw new DomainError(
        "invalid_input",
        `amountCents ${input.amountCents} is more than the ${view.refundableCents} left to refund`,
      );
    op = await startOperation(db, request, hash);
    const replay = replayable(op, hash);
    if (replay !== "resume") return replay;
  }
  const { invoice, billing } = await loadInvoice(db, op.placementInvoiceId);
  let refund: Stripe.Refund;
  try {
    refund = await gateway.createRefund({
      paymentIntent: billing!.stripePaymentIntentId!,
      amount: op.requestedCents ?? undefined,
      metadata: {
        placement_invoice_id: invoice.id,
        billing_operation_id: op.id,
        reason_code: op.reasonCode ?? "",
      },
      idempotencyKey: op.stripeIdempotencyKey,
    });
  } catch (error) {
    if (isRetryable(error)) throw error;
    return failOperation(db, op, error, input.actor);
  }
  const operation = op;
  const chargeId = typeof refund.charge === "string" ? refund.charge : refund.charge!.id;
  return db.transaction(async (tx) => {
    if (refund.status === "succeeded" || refund.status === "pending") {
      await applyRefund(tx, {
        placementInvoiceId: invoice.id,
        stripeInvoiceId: invoice.stripeInvoiceId,
        paymentIntentId: billing!.stripePaymentIntentId,
        chargeId,
        refundId: refund.id,
        amountCents: refund.amount,
        currency: refund.currency,
        refundedAt: new Date(refund.created * 1000),
        reasonCode: operation.reasonCode,
        origin: "api",
        actor: input.actor,
      });
    }
    return finishOperation(
      tx,
      operation,
      { stripeObjectId: refund.id, amountCents: refund.amount },
      input.actor,
    );
  });
}

/** The Stripe-hosted PDF of a finalized invoice (Stripe's `invoice_pdf`). */
export async function invoicePdfUrl(
  db: Db,
  gateway: Pick<StripeGateway, "retrieveInvoice">,
  invoiceId: string,
): Promise<string> {
  const { invoice } = await loadInvoice(db, invoiceId);
  if (!invoice.stripeInvoiceId)
    throw new DomainError("conflict", "this invoice is not at Stripe yet, so it has no PDF");
  const stripeInvoice = await gateway.retrieveInvoice(invoice.stripeInvoiceId);
  if (!stripeInvoice.invoice_pdf)
    throw new DomainError("conflict", "Stripe has no PDF for this invoice until it is finalized");
  return stripeInvoice.invoice_pdf;
}
