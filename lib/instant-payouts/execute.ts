import { and, eq, sql } from "drizzle-orm";
import type Stripe from "stripe";
import type { Db } from "../../db/client";
import { type Payout, payouts } from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import { errorText } from "../observability/log";
import { postInstantFeeCollected } from "../payouts/instant-fee";
import { postPayoutTransferred } from "../payouts/ledger";
import { savePayoutInTransit } from "../payouts/process-payout";
import { IDEMPOTENCY_WINDOW_MS } from "../payouts/process-payout";
import { failPayout } from "../payouts/settle";
import { classifyStripeError } from "../stripe/errors";
import type { InstantGateway } from "./quote";

// Paying a claimed instant payout at Stripe, step by step, each Stripe write under the key stored on
// the row at claim time: the transfer of what the platform holds for the payee (if any), the account
// debit of the fee's part on the connected account (if any), then the payout with method=instant. The
// request that claimed it runs this at once; if that invocation dies, its lease runs out and the
// resume sweep (sweep.ts) runs it again, looking up at Stripe what an earlier attempt may have made
// before sending anything, so nothing is ever made twice.

/** How long the invocation that claimed an instant payout keeps it before the sweep may take over. */
export const INSTANT_LEASE_SECONDS = 60;
/** A retryable Stripe error (429, 5xx, a dropped connection) hands the payout to the sweep after this. */
export const INSTANT_RETRY_DELAY_SECONDS = 30;

export type InstantContext = { db: Db; gateway: InstantGateway; actor: Actor; owner: string };

export type InstantOutcome = "in_transit" | "failed" | "deferred" | "lost_lease";

/** Take (or keep) the payout's lease for this owner and count the attempt; null if someone else holds it. */
async function takeLease(db: Db, payoutId: string, owner: string): Promise<Payout | null> {
  const [row] = await db
    .update(payouts)
    .set({
      leaseOwner: owner,
      leaseExpiresAt: sql`now() + make_interval(secs => ${INSTANT_LEASE_SECONDS})`,
      attempts: sql`${payouts.attempts} + 1`,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(payouts.id, payoutId),
        eq(payouts.origin, "instant"),
        eq(payouts.status, "processing"),
        sql`(${payouts.leaseOwner} = ${owner} or ${payouts.leaseExpiresAt} < now())`,
      ),
    )
    .returning();
  return row ?? null;
}

const metaOf = (p: Payout, kind: string) => ({ payout_id: p.id, kind });

/** What an earlier attempt may have made at Stripe and not recorded (a crash between the call and our update). */
async function lookUp(gateway: InstantGateway, p: Payout) {
  const account = p.stripeAccountId!;
  let transferId = p.stripeTransferId;
  if (!transferId && p.transferAmountCents > 0) {
    const list = await gateway.listTransfers({ transferGroup: p.id, limit: 10 });
    transferId =
      list.data.find((t) => t.metadata?.payout_id === p.id && t.destination === account && !t.reversed)?.id ??
      null;
  }
  let feeTransferId = p.stripeFeeTransferId;
  if (!feeTransferId && p.feeDebitCents > 0) {
    const list = await gateway.listTransfers({ stripeAccount: account, limit: 100 });
    feeTransferId =
      list.data.find((t) => t.metadata?.payout_id === p.id && t.metadata?.kind === "instant_fee")?.id ?? null;
  }
  let payout: Stripe.Payout | undefined;
  if (!p.stripePayoutId) {
    const list = await gateway.listPayouts({ stripeAccount: account, limit: 100 });
    payout = list.data.find((po) => po.metadata?.payout_id === p.id);
  }
  return { transferId, feeTransferId, payout };
}

/**
 * Pay one instant payout this owner holds (or whose lease ran out). Final Stripe refusals (no eligible
 * card, instant_available too low) fail it: money and fee back in available, Stripe's code and message
 * kept, an alert. Retryable errors leave it to the resume sweep.
 */
export async function executeInstantPayout(ctx: InstantContext, payoutId: string): Promise<InstantOutcome> {
  const { db, gateway } = ctx;
  const p = await takeLease(db, payoutId, ctx.owner);
  if (!p) return "lost_lease";
  try {
    const account = p.stripeAccountId!;
    const attemptedBefore =
      p.attempts > 1 || Date.now() - (p.firstAttemptAt?.getTime() ?? Date.now()) > IDEMPOTENCY_WINDOW_MS;
    const found = attemptedBefore
      ? await lookUp(gateway, p)
      : { transferId: p.stripeTransferId, feeTransferId: p.stripeFeeTransferId, payout: undefined };
    let transferId = found.transferId;
    if (transferId && !p.stripeTransferId) await saveTransfer(ctx, p, transferId);
    if (found.feeTransferId && !p.stripeFeeTransferId) await saveFeeDebit(ctx, p, found.feeTransferId);
    let stripePayout = found.payout;

    if (!stripePayout && !p.stripePayoutId && p.transferAmountCents > 0 && !transferId) {
      const transfer = await gateway.createTransfer({
        amount: p.transferAmountCents,
        currency: p.currency,
        destination: account,
        transferGroup: p.id,
        metadata: metaOf(p, "instant_transfer"),
        description: "Payrun instant payout",
        idempotencyKey: p.transferIdempotencyKey!,
      });
      transferId = transfer.id;
      await saveTransfer(ctx, p, transferId);
    }
    if (!stripePayout && !p.stripePayoutId && p.feeDebitCents > 0 && !found.feeTransferId) {
      const platform = await gateway.retrievePlatformAccount();
      const debit = await gateway.createAccountDebit({
        stripeAccount: account,
        platformAccount: platform.id,
        amount: p.feeDebitCents,
        currency: p.currency,
        metadata: metaOf(p, "instant_fee"),
        description: "Payrun instant payout fee",
        idempotencyKey: p.feeIdempotencyKey!,
      });
      await saveFeeDebit(ctx, p, debit.id);
    }
    if (!stripePayout && !p.stripePayoutId) {
      stripePayout = await gateway.createPayout({
        stripeAccount: account,
        amount: p.amountCents,
        currency: p.currency,
        method: "instant",
        metadata: metaOf(p, "instant_payout"),
        description: "Payrun instant payout",
        idempotencyKey: p.payoutIdempotencyKey!,
      });
    }
    const moved = await savePayoutInTransit(ctx.db, p, {
      transferId,
      stripePayoutId: stripePayout?.id ?? p.stripePayoutId!,
      stripePayout,
      actor: ctx.actor,
      audit: { method: "instant" },
    });
    return moved ? "in_transit" : "lost_lease";
  } catch (error) {
    const c = classifyStripeError(error);
    if (c.retryable || c.kind === "unknown") {
      // Unknown outcome (a dropped connection, a 5xx, our own crash in between): the sweep tries again
      // with a lookup first. Nothing is failed on a guess.
      await db
        .update(payouts)
        .set({
          leaseExpiresAt: sql`now() + make_interval(secs => ${INSTANT_RETRY_DELAY_SECONDS})`,
          updatedAt: sql`now()`,
        })
        .where(
          and(eq(payouts.id, p.id), eq(payouts.status, "processing"), eq(payouts.leaseOwner, ctx.owner)),
        );
      return "deferred";
    }
    const code = c.failureCode ?? c.code ?? c.declineCode ?? c.kind;
    return (await failInstant(ctx, p.id, code, c.message || errorText(error))) ? "failed" : "lost_lease";
  }
}

async function saveTransfer(ctx: InstantContext, p: Payout, transferId: string) {
  await ctx.db.transaction(async (tx) => {
    const rows = await tx
      .update(payouts)
      .set({ stripeTransferId: transferId, updatedAt: sql`now()` })
      .where(and(eq(payouts.id, p.id), sql`${payouts.stripeTransferId} is null`))
      .returning({ id: payouts.id });
    if (rows.length === 0) return;
    await postPayoutTransferred(tx, p, transferId);
    await recordAudit(tx, {
      actor: ctx.actor,
      action: "payout.transferred",
      entityType: "payout",
      entityId: p.id,
      after: { stripeTransferId: transferId, transferAmountCents: p.transferAmountCents },
    });
  });
  p.stripeTransferId = transferId;
}

async function saveFeeDebit(ctx: InstantContext, p: Payout, feeTransferId: string) {
  await ctx.db.transaction(async (tx) => {
    const rows = await tx
      .update(payouts)
      .set({ stripeFeeTransferId: feeTransferId, updatedAt: sql`now()` })
      .where(and(eq(payouts.id, p.id), sql`${payouts.stripeFeeTransferId} is null`))
      .returning({ id: payouts.id });
    if (rows.length === 0) return;
    await postInstantFeeCollected(tx, p, feeTransferId);
    await recordAudit(tx, {
      actor: ctx.actor,
      action: "payout.instant_fee_collected",
      entityType: "payout",
      entityId: p.id,
      after: { stripeFeeTransferId: feeTransferId, feeDebitCents: p.feeDebitCents },
    });
  });
  p.stripeFeeTransferId = feeTransferId;
}


async function failInstant(
  ctx: InstantContext,
  payoutId: string,
  code: string,
  message: string,
): Promise<boolean> {
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx.select().from(payouts).where(eq(payouts.id, payoutId)).for("update");
    if (row?.status !== "processing") return false;
    await failPayout(tx, row, { code, message, actor: ctx.actor });
    return true;
  });
}
