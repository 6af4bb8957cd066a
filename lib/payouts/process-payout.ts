import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { payouts } from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import type { ClaimedPayout } from "./claim";
import { classifyPayoutError, listData, type PayoutGateway, type StripePayoutLike } from "./gateway";
import type { StripeEndpoint, StripeRateLimiter } from "./limiter";
import { postPayoutSent, postPayoutTransferred } from "./ledger";
import { failPayout } from "./settle";

/** Stripe forgets an idempotency key after 24 hours; older attempts are looked up first. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Where a crash drill may kill the work (tests throw from these). */
export type ExecutorFaultPoint = "afterClaim" | "afterTransferCall" | "afterPayoutCall" | "afterUpdate";
export type ExecutorHooks = { fault?: (point: ExecutorFaultPoint, payoutId: string) => void | Promise<void> };

export type PayoutContext = {
  db: Db;
  gateway: PayoutGateway;
  limiter: StripeRateLimiter;
  actor: Actor;
  owner: string;
  hooks?: ExecutorHooks;
  stats: { rateLimited: number; retries: number };
  maxRetries?: number;
  /** No Stripe call starts after this instant (the invocation's time budget). */
  deadline?: number;
};

/** The time budget ran out before a call could start. */
export class OutOfTime extends Error {
  constructor() {
    super("time budget spent");
  }
}

export type PayoutOutcome = "in_transit" | "failed" | "deferred" | "lost_lease" | "not_started" | "interrupted";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Call Stripe under the limiter, retrying retryable errors with exponential back-off and jitter. */
async function callStripe<T>(ctx: PayoutContext, endpoint: StripeEndpoint, call: () => Promise<T>): Promise<T> {
  const maxRetries = ctx.maxRetries ?? 5;
  for (let attempt = 0; ; attempt++) {
    if (!(await ctx.limiter.acquire(endpoint, ctx.deadline))) throw new OutOfTime();
    try {
      return await call();
    } catch (error) {
      const c = classifyPayoutError(error);
      if (!c.retryable || attempt >= maxRetries) throw error;
      ctx.stats.retries++;
      const delay = Math.min(8000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
      if (c.rateLimited) {
        ctx.stats.rateLimited++;
        ctx.limiter.backOff(endpoint, delay);
      }
      await sleep(delay);
    }
  }
}

/** The Stripe payout we made for this payout row earlier, if any (metadata.payout_id). */
async function findStripePayout(ctx: PayoutContext, p: ClaimedPayout): Promise<StripePayoutLike | undefined> {
  let startingAfter: string | undefined;
  const since = p.firstAttemptAt.getTime() / 1000 - 3600;
  for (let page = 0; page < 20; page++) {
    const list = listData(
      await callStripe(ctx, "list_payouts", () =>
        ctx.gateway.listPayouts({ stripeAccount: p.stripeAccountId!, limit: 100, startingAfter }),
      ),
    );
    const found = list.data.find((po) => po.metadata?.payout_id === p.id && po.status !== "failed" && po.status !== "canceled");
    if (found) return found;
    const last = list.data.at(-1) as (StripePayoutLike & { created?: number }) | undefined;
    if (!list.hasMore || !last || (last.created !== undefined && last.created < since)) return undefined;
    startingAfter = last.id;
  }
  return undefined;
}

/**
 * Pay one claimed payout: transfer (when part of the money sits on the platform), then the payout on
 * the connected account, each with the key stored at claim time. A payout attempted before is first
 * looked up at Stripe (transfer group = payout id, payout metadata), so nothing is ever sent twice,
 * even past the 24-hour idempotency window.
 */
export async function processPayout(ctx: PayoutContext, p: ClaimedPayout): Promise<PayoutOutcome> {
  const { db, gateway, hooks } = ctx;
  // What this attempt has sent to Stripe; decides whether the next attempt must look up first.
  let transferSent = false;
  let transferSaved = false;
  let payoutSent = false;
  try {
    if (!p.stripeAccountId) throw Object.assign(new Error("payee has no connected account"), { code: "no_account", retryable: false });
    const attemptedBefore = p.attempts > 1 || Date.now() - p.firstAttemptAt.getTime() > IDEMPOTENCY_WINDOW_MS;
    let transferId = p.stripeTransferId;
    let stripePayout: StripePayoutLike | undefined;

    if (attemptedBefore && p.transferAmountCents > 0 && !transferId) {
      const list = listData(
        await callStripe(ctx, "list_transfers", () => gateway.listTransfers({ transferGroup: p.id, limit: 10 })),
      );
      transferId = list.data.find((t) => (t.transfer_group === p.id || t.metadata?.payout_id === p.id) && !t.reversed)?.id ?? null;
      if (transferId) await saveTransfer(db, p, transferId, ctx);
    }
    if (attemptedBefore && !p.stripePayoutId) stripePayout = await findStripePayout(ctx, p);

    if (p.transferAmountCents > 0 && !transferId && !stripePayout) {
      const transfer = await callStripe(ctx, "transfers", () => {
        transferSent = true;
        return gateway.createTransfer({
          amount: p.transferAmountCents,
          currency: p.currency,
          destination: p.stripeAccountId!,
          transferGroup: p.id,
          metadata: { payout_id: p.id, run_id: p.runId },
          idempotencyKey: p.transferIdempotencyKey ?? `payout:${p.id}:transfer`,
        });
      });
      await hooks?.fault?.("afterTransferCall", p.id);
      transferId = transfer.id;
      await saveTransfer(db, p, transferId, ctx);
      transferSaved = true;
    }

    if (!stripePayout && !p.stripePayoutId) {
      stripePayout = await callStripe(ctx, "payouts", () => {
        payoutSent = true;
        return gateway.createPayout({
          stripeAccount: p.stripeAccountId!,
          amount: p.amountCents,
          currency: p.currency,
          metadata: { payout_id: p.id, run_id: p.runId },
          description: "Payrun payout",
          idempotencyKey: p.payoutIdempotencyKey,
        });
      });
      await hooks?.fault?.("afterPayoutCall", p.id);
    }
    const updated = await markInTransit(db, p, transferId, stripePayout?.id ?? p.stripePayoutId!, stripePayout, ctx);
    await hooks?.fault?.("afterUpdate", p.id);
    return updated ? "in_transit" : "lost_lease";
  } catch (error) {
    if ((error as { crashDrill?: boolean }).crashDrill) throw error;
    // Out of time. If this attempt wrote nothing to Stripe that is not recorded (no payout call, and
    // any transfer saved), it changed nothing the next attempt does not know: hand it back as if
    // never claimed (not an attempt). Whatever earlier attempts left unknown is still marked by their
    // own count, so the next claim looks up exactly when it did before. Otherwise this attempt's call
    // may have reached Stripe unrecorded: keep it, counted, for a lookup on resume.
    if (error instanceof OutOfTime) {
      const changedNothingUnknown = !payoutSent && (!transferSent || transferSaved);
      return changedNothingUnknown ? "not_started" : "interrupted";
    }
    const c = classifyPayoutError(error);
    if (c.retryable) return "deferred";
    return (await failClaimed(db, p, c.code, c.message, ctx.actor)) ? "failed" : "lost_lease";
  }
}

async function saveTransfer(db: Db, p: ClaimedPayout, transferId: string, ctx: PayoutContext) {
  await db.transaction(async (tx) => {
    await tx
      .update(payouts)
      .set({ stripeTransferId: transferId, updatedAt: sql`now()` })
      .where(and(eq(payouts.id, p.id), sql`${payouts.stripeTransferId} is null`));
    await postPayoutTransferred(tx, p, transferId);
    await recordAudit(tx, {
      actor: ctx.actor,
      action: "payout.transferred",
      entityType: "payout",
      entityId: p.id,
      after: { stripeTransferId: transferId, transferAmountCents: p.transferAmountCents },
    });
  });
}

async function markInTransit(
  db: Db,
  p: ClaimedPayout,
  transferId: string | null,
  stripePayoutId: string,
  po: StripePayoutLike | undefined,
  ctx: PayoutContext,
) {
  return db.transaction(async (tx) => {
    // Only from processing: a payout.paid webhook may have beaten us here, and paid must stay paid.
    const rows = await tx
      .update(payouts)
      .set({
        status: "in_transit",
        stripePayoutId,
        arrivalDate: po?.arrival_date ? new Date(po.arrival_date * 1000) : null,
        leaseOwner: null,
        leaseExpiresAt: null,
        updatedAt: sql`now()`,
      })
      .where(and(eq(payouts.id, p.id), eq(payouts.status, "processing")))
      .returning({ id: payouts.id });
    if (rows.length === 0) return false;
    await postPayoutSent(tx, { ...p, stripeTransferId: transferId }, stripePayoutId);
    await recordAudit(tx, {
      actor: ctx.actor,
      action: "payout.in_transit",
      entityType: "payout",
      entityId: p.id,
      before: { status: "processing" },
      after: { status: "in_transit", stripePayoutId, stripeTransferId: p.stripeTransferId },
    });
    return true;
  });
}

export async function failClaimed(db: Db, p: ClaimedPayout, code: string, message: string, actor: Actor): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(payouts).where(eq(payouts.id, p.id)).for("update");
    if (row?.status !== "processing") return false;
    await failPayout(tx, row, { code, message, actor });
    return true;
  });
}
