import { createHash, randomUUID } from "node:crypto";
import { desc, eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { isUniqueViolation } from "../../db/paging";
import { type BillingAdjustment, billingAdjustments, payees } from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import { DomainError, notFound } from "../errors";
import { postLedgerTransaction } from "../ledger";

// Manual adjustments (docs/BILLING.md "Adjustments"): a charge or a credit to a client or a payee,
// with a reason code from a fixed list, posted to the ledger against the platform's `adjustments`
// account, audited, once per Idempotency-Key. No money moves at Stripe, so the postings carry no
// Stripe references. A payee credit adds to the payee's available balance (payable by the next
// run); a payee charge takes from it (it may go below zero: the payee owes it). A client charge
// adds to client_funds (what the client owes us is booked as theirs to apply); a client credit
// takes from it.

export const adjustmentReasons = [
  { code: "billing_error", label: "Billing error corrected", appliesTo: ["client", "payee"] },
  { code: "goodwill_credit", label: "Goodwill credit", appliesTo: ["client", "payee"] },
  { code: "service_credit", label: "Service credit (SLA or guarantee)", appliesTo: ["client"] },
  { code: "late_payment_fee", label: "Late payment fee", appliesTo: ["client"] },
  { code: "chargeback_fee", label: "Chargeback fee passed on", appliesTo: ["client", "payee"] },
  { code: "commission_correction", label: "Commission or share corrected", appliesTo: ["payee"] },
  { code: "bonus", label: "Bonus or incentive", appliesTo: ["payee"] },
  { code: "clawback", label: "Clawback of an amount paid in error", appliesTo: ["payee"] },
  { code: "write_off", label: "Written off", appliesTo: ["client"] },
] as const;
export type AdjustmentReasonCode = (typeof adjustmentReasons)[number]["code"];
export const adjustmentReasonCodes = adjustmentReasons.map((r) => r.code) as [
  AdjustmentReasonCode,
  ...AdjustmentReasonCode[],
];

export type AdjustmentInput = {
  target: "client" | "payee";
  payeeId?: string | null;
  clientStripeCustomerId?: string | null;
  direction: "charge" | "credit";
  amountCents: number;
  currency: string;
  reasonCode: AdjustmentReasonCode;
  note: string;
};

const fingerprint = (input: AdjustmentInput) =>
  createHash("sha256")
    .update(
      JSON.stringify([
        input.target,
        input.payeeId ?? null,
        input.clientStripeCustomerId ?? null,
        input.direction,
        input.amountCents,
        input.currency,
        input.reasonCode,
        input.note,
      ]),
    )
    .digest("hex");

/**
 * Post an adjustment once per request key: the same key and request answer with the first
 * adjustment (`created: false`); the same key with another request is a conflict.
 */
export async function createAdjustment(
  db: Db,
  input: AdjustmentInput & { requestKey: string; actor: Actor },
): Promise<{ adjustment: BillingAdjustment; created: boolean }> {
  const reason = adjustmentReasons.find((r) => r.code === input.reasonCode)!;
  if (!(reason.appliesTo as readonly string[]).includes(input.target))
    throw new DomainError("invalid_input", `reason ${input.reasonCode} does not apply to a ${input.target}`);
  const hash = fingerprint(input);
  const replay = async (tx: Db) => {
    const [existing] = await tx
      .select()
      .from(billingAdjustments)
      .where(eq(billingAdjustments.requestKey, input.requestKey));
    if (!existing) return null;
    if (existing.requestHash !== hash)
      throw new DomainError("conflict", "this Idempotency-Key was already used for a different adjustment", {
        adjustment: existing.id,
      });
    return { adjustment: existing, created: false };
  };
  try {
    return await post(db, input, hash, reason.label, replay);
  } catch (error) {
    // The same key posted at the same moment by another request: answer with its adjustment.
    if (isUniqueViolation(error)) {
      const earlier = await replay(db);
      if (earlier) return earlier;
    }
    throw error;
  }
}

async function post(
  db: Db,
  input: AdjustmentInput & { requestKey: string; actor: Actor },
  hash: string,
  reasonLabel: string,
  replay: (tx: Db) => Promise<{ adjustment: BillingAdjustment; created: boolean } | null>,
): Promise<{ adjustment: BillingAdjustment; created: boolean }> {
  return db.transaction(async (tx) => {
    const existing = await replay(tx);
    if (existing) return existing;
    if (input.target === "payee") {
      const [payee] = await tx.select({ id: payees.id }).from(payees).where(eq(payees.id, input.payeeId!));
      if (!payee) throw notFound("payee");
    }
    const id = randomUUID();
    const sign = input.direction === "credit" ? 1 : -1;
    const lines =
      input.target === "payee"
        ? [
            {
              payeeId: input.payeeId!,
              kind: "available" as const,
              location: "platform" as const,
              amount: sign * input.amountCents,
            },
            { kind: "adjustments" as const, amount: -sign * input.amountCents },
          ]
        : [
            { kind: "client_funds" as const, amount: -sign * input.amountCents },
            { kind: "adjustments" as const, amount: sign * input.amountCents },
          ];
    const posted = await postLedgerTransaction(tx, {
      idempotencyKey: `billing_adjustment:${id}`,
      kind: `adjustment_${input.direction}`,
      description: `${reasonLabel}: ${input.note}`.slice(0, 500),
      currency: input.currency,
      payeeId: input.target === "payee" ? input.payeeId! : null,
      sourceType: "billing_adjustment",
      sourceId: id,
      metadata: {
        target: input.target,
        client_stripe_customer_id: input.clientStripeCustomerId ?? null,
        reason_code: input.reasonCode,
        direction: input.direction,
      },
      allowNegative: input.target === "payee" && input.direction === "charge",
      lines,
    });
    const [adjustment] = await tx
      .insert(billingAdjustments)
      .values({
        id,
        requestKey: input.requestKey,
        requestHash: hash,
        target: input.target,
        payeeId: input.target === "payee" ? input.payeeId! : null,
        clientStripeCustomerId: input.target === "client" ? input.clientStripeCustomerId! : null,
        direction: input.direction,
        amountCents: input.amountCents,
        currency: input.currency,
        reasonCode: input.reasonCode,
        note: input.note,
        ledgerTransactionId: posted.transactionId,
        createdBy: input.actor.id,
      })
      .returning();
    await recordAudit(tx, {
      actor: input.actor,
      action: "billing_adjustment.created",
      entityType: "billing_adjustment",
      entityId: id,
      after: adjustment,
      reason: `${input.reasonCode}: ${input.note}`,
    });
    return { adjustment: adjustment!, created: true };
  });
}

export async function listAdjustments(db: Db, limit = 50): Promise<BillingAdjustment[]> {
  return db
    .select()
    .from(billingAdjustments)
    .orderBy(desc(billingAdjustments.createdAt), desc(billingAdjustments.id))
    .limit(limit);
}
