import { and, eq, sql } from "drizzle-orm";
import type Stripe from "stripe";
import type { Db } from "../../db/client";
import { payouts } from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import { OutOfTime } from "../stripe/call";
import { classifyStripeError } from "../stripe/errors";
import type { StripeGateway } from "../stripe/gateway";
import type { ClaimedPayout } from "./claim";
import { postPayoutSent, postPayoutTransferred } from "./ledger";
import { failPayout } from "./settle";

/** Stripe forgets an idempotency key after 24 hours; older attempts are looked up first. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Where a crash drill may kill the work (tests throw from these). */
export type ExecutorFaultPoint = "afterClaim" | "afterTransferCall" | "afterPayoutCall" | "afterUpdate";
export type ExecutorHooks = { fault?: (point: ExecutorFaultPoint, payoutId: string) => void | Promise<void> };

/** The Stripe calls the run makes. */
export type PayoutGateway = Pick<StripeGateway, "createTransfer" | "listTransfers" | "createPayout" | "listPayouts" | "withPolicy">;

export type PayoutContext = {
  db: Db;
  /** The slice's gateway: paced by the process's limiter, out of time at the slice's deadline. */
  gateway: PayoutGateway;
  actor: Actor;
  owner: string;
  hooks?: ExecutorHooks;
};

export type PayoutOutcome = "in_transit" | "failed" | "deferred" | "lost_lease" | "not_started" | "interrupted";

/** Did any request of this call go out (so that it may have reached Stripe)? */
const madeRequests = (error: unknown) => !(error instanceof OutOfTime && error.requestsMade === 0);

/** A failure as the run records it: retryable or final, with Stripe's code, or our own refusal's. */
function classifyPayoutError(error: unknown): { retryable: boolean; code: string; message: string } {
  if (error instanceof PayoutRefusal) return { retryable: false, code: error.code, message: error.message };
  const c = classifyStripeError(error);
  return { retryable: c.retryable, code: c.failureCode ?? c.code ?? c.declineCode ?? c.kind, message: c.message };
}

/** The run's own reason not to pay (no connected account): final, like a Stripe refusal. */
class PayoutRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The Stripe payout we made for this payout row earlier, if any (metadata.payout_id). */
async function findStripePayout(gateway: PayoutGateway, p: ClaimedPayout): Promise<Stripe.Payout | undefined> {
  let startingAfter: string | undefined;
  const since = p.firstAttemptAt.getTime() / 1000 - 3600;
  for (let page = 0; page < 20; page++) {
    const list = await gateway.listPayouts({ stripeAccount: p.stripeAccountId!, limit: 100, startingAfter });
    const found = list.data.find((po) => po.metadata?.payout_id === p.id && po.status !== "failed" && po.status !== "canceled");
    if (found) return found;
    const last = list.data.at(-1);
    if (!list.has_more || !last || last.created < since) return undefined;
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
    if (!p.stripeAccountId) throw new PayoutRefusal("no_account", "payee has no connected account");
    const attemptedBefore = p.attempts > 1 || Date.now() - p.firstAttemptAt.getTime() > IDEMPOTENCY_WINDOW_MS;
    let transferId = p.stripeTransferId;
    let stripePayout: Stripe.Payout | undefined;

    if (attemptedBefore && p.transferAmountCents > 0 && !transferId) {
      const list = await gateway.listTransfers({ transferGroup: p.id, limit: 10 });
      transferId = list.data.find((t) => (t.transfer_group === p.id || t.metadata?.payout_id === p.id) && !t.reversed)?.id ?? null;
      if (transferId) await saveTransfer(db, p, transferId, ctx);
    }
    if (attemptedBefore && !p.stripePayoutId) stripePayout = await findStripePayout(gateway, p);

    if (p.transferAmountCents > 0 && !transferId && !stripePayout) {
      const transfer = await gateway
        .createTransfer({
          amount: p.transferAmountCents,
          currency: p.currency,
          destination: p.stripeAccountId,
          transferGroup: p.id,
          metadata: { payout_id: p.id, run_id: p.runId },
          idempotencyKey: p.transferIdempotencyKey!,
        })
        .catch((error) => {
          transferSent = madeRequests(error);
          throw error;
        });
      transferSent = true;
      await hooks?.fault?.("afterTransferCall", p.id);
      transferId = transfer.id;
      await saveTransfer(db, p, transferId, ctx);
      transferSaved = true;
    }

    if (!stripePayout && !p.stripePayoutId) {
      stripePayout = await gateway
        .createPayout({
          stripeAccount: p.stripeAccountId,
          amount: p.amountCents,
          currency: p.currency,
          metadata: { payout_id: p.id, run_id: p.runId },
          description: "Payrun payout",
          idempotencyKey: p.payoutIdempotencyKey,
        })
        .catch((error) => {
          payoutSent = madeRequests(error);
          throw error;
        });
      payoutSent = true;
      await hooks?.fault?.("afterPayoutCall", p.id);
    }
    const updated = await savePayoutInTransit(db, p, {
      transferId,
      stripePayoutId: stripePayout?.id ?? p.stripePayoutId!,
      stripePayout,
      actor: ctx.actor,
      audit: { stripeTransferId: p.stripeTransferId },
    });
    await hooks?.fault?.("afterUpdate", p.id);
    return updated ? "in_transit" : "lost_lease";
  } catch (error) {
    if ((error as { crashDrill?: boolean }).crashDrill) throw error;
    // Out of time. If this attempt wrote nothing to Stripe that is not recorded (no payout request,
    // and any transfer saved), it changed nothing the next attempt does not know: hand it back as if
    // never claimed (not an attempt). Whatever earlier attempts left unknown is still marked by their
    // own count, so the next claim looks up exactly when it did before. Otherwise a request of this
    // attempt may have reached Stripe unrecorded: keep it, counted, for a lookup on resume.
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

/**
 * The payout is at Stripe: processing → in transit, its ledger posting and audit row in one
 * transaction, only from processing (a payout.paid or payout.failed webhook may have beaten us here,
 * and a settled payout stays settled). False when it did not move. The run's executor and instant
 * payouts both save through it.
 */
export async function savePayoutInTransit(
  db: Db,
  p: Parameters<typeof postPayoutSent>[1],
  input: { transferId: string | null; stripePayoutId: string; stripePayout: Stripe.Payout | undefined; actor: Actor; audit: Record<string, unknown> },
) {
  return db.transaction(async (tx) => {
    const rows = await tx
      .update(payouts)
      .set({
        status: "in_transit",
        stripePayoutId: input.stripePayoutId,
        arrivalDate: input.stripePayout?.arrival_date ? new Date(input.stripePayout.arrival_date * 1000) : null,
        leaseOwner: null,
        leaseExpiresAt: null,
        updatedAt: sql`now()`,
      })
      .where(and(eq(payouts.id, p.id), eq(payouts.status, "processing")))
      .returning({ id: payouts.id });
    if (rows.length === 0) return false;
    await postPayoutSent(tx, { ...p, stripeTransferId: input.transferId }, input.stripePayoutId);
    await recordAudit(tx, {
      actor: input.actor,
      action: "payout.in_transit",
      entityType: "payout",
      entityId: p.id,
      before: { status: "processing" },
      after: { status: "in_transit", stripePayoutId: input.stripePayoutId, ...input.audit },
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
