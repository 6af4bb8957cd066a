import { eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { type Payout, payouts } from "../../db/schema";
import { type Actor, webhookActor } from "../actor";
import { recordAudit } from "../audit";
import { enqueueOutbox } from "../outbox";
import { isUuid } from "../schemas/common";
import { payoutKey } from "./keys";
import { postInstantFeeReturned } from "./instant-fee";
import { postPayoutPaid, postPayoutReversed, postTransferReversal } from "./ledger";

// What Stripe's payout and transfer events do to our payouts. The webhook handler calls these inside
// its own transaction; the executor calls failPayout for final Stripe errors.

export type PayoutEventInput = {
  outcome: "paid" | "failed" | "canceled";
  stripePayoutId: string;
  /** metadata.payout_id of the Stripe payout */
  payoutId?: string;
  failureCode?: string | null;
  failureMessage?: string | null;
  eventId: string;
  occurredAt: Date;
  arrivalDate?: Date | null;
};

export type PayoutEventResult = { result: "applied" | "already_applied" | "unknown_payout"; payoutId?: string };

const payoutSnapshot = (p: Payout) => ({
  status: p.status,
  stripePayoutId: p.stripePayoutId,
  failureCode: p.failureCode,
  amountCents: p.amountCents,
  currency: p.currency,
});

async function lockPayout(db: Db, where: { id?: string; stripePayoutId?: string; stripeTransferId?: string }) {
  const cond = where.id
    ? eq(payouts.id, where.id)
    : where.stripePayoutId
      ? eq(payouts.stripePayoutId, where.stripePayoutId)
      : eq(payouts.stripeTransferId, where.stripeTransferId ?? "");
  const [row] = await db.select().from(payouts).where(cond).for("update");
  return row;
}

/** payout.paid settles a payout (in_transit -> paid); payout.failed/canceled fail it and return the funds. */
export async function applyPayoutEvent(db: Db, input: PayoutEventInput): Promise<PayoutEventResult> {
  return db.transaction(async (tx) => {
    let payout = await lockPayout(tx, { stripePayoutId: input.stripePayoutId });
    if (!payout && input.payoutId && isUuid(input.payoutId)) {
      // Crash between Stripe's answer and our update: the payout row does not know the po_ id yet.
      payout = await lockPayout(tx, { id: input.payoutId });
      if (payout?.stripePayoutId && payout.stripePayoutId !== input.stripePayoutId) payout = undefined;
    }
    if (!payout) return { result: "unknown_payout" as const };
    const actor = webhookActor(input.eventId);

    if (input.outcome === "paid") {
      if (payout.status === "paid" || payout.status === "failed") return { result: "already_applied" as const, payoutId: payout.id };
      await postPayoutPaid(tx, payout, input.stripePayoutId, input.occurredAt);
      const [after] = await tx
        .update(payouts)
        .set({
          status: "paid",
          stripePayoutId: input.stripePayoutId,
          paidAt: input.occurredAt,
          arrivalDate: input.arrivalDate ?? payout.arrivalDate,
          leaseOwner: null,
          leaseExpiresAt: null,
          updatedAt: sql`now()`,
        })
        .where(eq(payouts.id, payout.id))
        .returning();
      await recordAudit(tx, {
        actor,
        action: "payout.paid",
        entityType: "payout",
        entityId: payout.id,
        before: payoutSnapshot(payout),
        after: payoutSnapshot(after!),
      });
      return { result: "applied" as const, payoutId: payout.id };
    }

    if (payout.status === "failed") return { result: "already_applied" as const, payoutId: payout.id };
    await failPayout(tx, payout, {
      code: input.failureCode ?? (input.outcome === "canceled" ? "canceled" : "payout_failed"),
      message: input.failureMessage ?? `Stripe payout ${input.outcome}`,
      actor,
      stripePayoutId: input.stripePayoutId,
      at: input.occurredAt,
    });
    return { result: "applied" as const, payoutId: payout.id };
  });
}

/**
 * Fail one payout: keep Stripe's code and message, return its funds to available (from in_transit,
 * or from paid when the bank returned a payout Stripe had reported paid), audit it, alert via the outbox.
 * Call with a transaction that holds the payout row.
 */
export async function failPayout(
  tx: Db,
  payout: Payout,
  input: { code: string; message: string; actor: Actor; stripePayoutId?: string | null; at?: Date },
): Promise<void> {
  const at = input.at ?? new Date();
  // planned/processing/in_transit/paid payouts hold their amount outside available; skipped ones never did.
  if (payout.status !== "skipped" && payout.amountCents > 0) await postPayoutReversed(tx, payout, input.code, at);
  // An instant payout's fee goes back too (lib/payouts/instant-fee.ts).
  if (payout.feeCents > 0) await postInstantFeeReturned(tx, payout, input.code, at);
  const [after] = await tx
    .update(payouts)
    .set({
      status: "failed",
      failureCode: input.code,
      failureMessage: input.message,
      stripePayoutId: input.stripePayoutId ?? payout.stripePayoutId,
      failedAt: at,
      leaseOwner: null,
      leaseExpiresAt: null,
      updatedAt: sql`now()`,
    })
    .where(eq(payouts.id, payout.id))
    .returning();
  await recordAudit(tx, {
    actor: input.actor,
    action: "payout.failed",
    entityType: "payout",
    entityId: payout.id,
    before: payoutSnapshot(payout),
    after: payoutSnapshot(after!),
    reason: `${input.code}: ${input.message}`,
  });
  await enqueueOutbox(tx, {
    type: "alert.payout_failed",
    destination: "slack",
    aggregateType: "payout",
    aggregateId: payout.id,
    dedupeKey: payoutKey(payout, "failed"),
    payload: {
      text:
        payout.origin === "instant"
          ? `Instant payout failed: ${payout.amountCents} ${payout.currency} to payee ${payout.payeeId} (${input.code}: ${input.message}). Funds and fee are back in the payee's available balance; the payee may ask again or wait for the run (RUNBOOK: instant payouts failing).`
          : `Payout failed: ${payout.amountCents} ${payout.currency} to payee ${payout.payeeId} (${input.code}: ${input.message}). Funds are back in the payee's available balance; fix the cause and retry POST /internal/payouts/${payout.id}/retry.`,
      payoutId: payout.id,
      runId: payout.runId,
      payeeId: payout.payeeId,
      code: input.code,
    },
  });
}

/**
 * transfer.reversed: the platform took back (part of) the transfer a payout made, so that money is
 * on the platform again. The ledger moves Stripe's amount (the cumulative `amount_reversed`, less
 * what it already moved) from the connected account to the platform, the payout records the total,
 * and ops hear of it, all once per amount.
 */
export async function applyTransferReversed(
  db: Db,
  input: { stripeTransferId: string; amountReversed: number; currency: string; eventId: string; occurredAt: Date },
): Promise<{ result: "applied" | "already_applied" | "unknown_transfer" }> {
  return db.transaction(async (tx) => {
    const payout = await lockPayout(tx, { stripeTransferId: input.stripeTransferId });
    if (!payout) return { result: "unknown_transfer" as const };
    const delta = input.amountReversed - payout.transferReversedCents;
    if (delta <= 0) return { result: "already_applied" as const };
    await postTransferReversal(tx, payout, {
      deltaCents: delta,
      cumulativeCents: input.amountReversed,
      stripeTransferId: input.stripeTransferId,
      effectiveAt: input.occurredAt,
    });
    await tx
      .update(payouts)
      .set({ transferReversedCents: input.amountReversed, updatedAt: sql`now()` })
      .where(eq(payouts.id, payout.id));
    await recordAudit(tx, {
      actor: webhookActor(input.eventId),
      action: "payout.transfer_reversed",
      entityType: "payout",
      entityId: payout.id,
      before: { stripeTransferId: payout.stripeTransferId, transferReversedCents: payout.transferReversedCents },
      after: { transferReversedCents: input.amountReversed, currency: input.currency },
    });
    await enqueueOutbox(tx, {
      type: "alert.transfer_reversed",
      destination: "slack",
      dedupeKey: `transfer_reversed:${input.stripeTransferId}:${input.amountReversed}`,
      payload: {
        text: `Transfer ${input.stripeTransferId} for payout ${payout.id} was reversed (${input.amountReversed} ${input.currency} in all); the money is back on the platform balance. Check the payout's status before paying by hand.`,
        payoutId: payout.id,
      },
    });
    return { result: "applied" as const };
  });
}
