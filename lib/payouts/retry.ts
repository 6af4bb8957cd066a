import { eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { payouts } from "../../db/schema";
import type { Actor } from "../actor";
import { DomainError } from "../errors";
import { recordAudit } from "../audit";
import type { Env } from "../env";
import { payoutKey } from "./keys";
import { retryBlockers, retryBlockerText } from "./retryable";
import { postPayoutPlanned } from "./ledger";
import { workRunInBackground } from "./run";

/**
 * Put a failed payout back to planned, moving its amount from available to in_transit again (the
 * failure returned it), with fresh idempotency keys (the old ones are spent on the failed attempt).
 * The run is reopened so the next trigger or continuation executes it.
 */
export async function retryFailedPayout(db: Db, payoutId: string, actor: Actor, reason?: string | null) {
  return db.transaction(async (tx) => {
    const [p] = await tx.select().from(payouts).where(eq(payouts.id, payoutId)).for("update");
    if (!p) throw new DomainError("not_found", "payout not found");
    if (p.status !== "failed") throw new DomainError("conflict", `payout is ${p.status}; only failed payouts can be retried`);
    if (p.origin === "instant")
      throw new DomainError(
        "conflict",
        "an instant payout is not retried: its money and fee are back in the payee's available balance; the payee may ask again or wait for the run",
      );
    // The same rule the run page uses to offer the button: a later payout took the money back, or
    // the balance no longer covers it.
    const blocker = (await retryBlockers(tx, [payoutId])).get(payoutId);
    if (blocker) throw new DomainError("conflict", retryBlockerText(blocker));
    // A transfer that went through stays (its money is on the connected account); one the platform
    // took back (in part) is made again for what it took back.
    const reversed = p.stripeTransferId !== null && p.transferReversedCents > 0;
    const next = {
      ...p,
      retries: p.retries + 1,
      stripeTransferId: reversed ? null : p.stripeTransferId,
      transferAmountCents: reversed ? p.transferReversedCents : p.transferAmountCents,
    };
    await postPayoutPlanned(tx, next, "failed payout retried: available -> in transit");
    const [after] = await tx
      .update(payouts)
      .set({
        status: "planned",
        failureCode: null,
        failureMessage: null,
        failedAt: null,
        stripePayoutId: null,
        payoutIdempotencyKey: payoutKey(next, "payout"),
        stripeTransferId: next.stripeTransferId,
        transferAmountCents: next.transferAmountCents,
        transferReversedCents: reversed ? 0 : p.transferReversedCents,
        transferIdempotencyKey: next.stripeTransferId
          ? p.transferIdempotencyKey
          : next.transferAmountCents > 0
            ? payoutKey(next, "transfer")
            : null,
        retries: next.retries,
        firstAttemptAt: null,
        attempts: 0,
        updatedAt: sql`now()`,
      })
      .where(eq(payouts.id, p.id))
      .returning();
    if (p.runId) {
      await tx.execute(sql`update payout_runs set status = 'executing', finished_at = null, heartbeat_at = now() - interval '1 day', updated_at = now()
                          where id = ${p.runId} and status in ('completed', 'completed_with_failures', 'executing')`);
    }
    await recordAudit(tx, {
      actor,
      action: "payout.retried",
      entityType: "payout",
      entityId: p.id,
      before: { status: p.status, failureCode: p.failureCode, failureMessage: p.failureMessage },
      after: { status: after!.status },
      reason: reason ?? null,
    });
    return { payoutId: p.id, runId: p.runId, status: after!.status };
  });
}

/** The retry endpoint: reopen the payout, then hand its run to a continuation to pay it now. */
export async function retryPayout(db: Db, env: Env, payoutId: string, actor: Actor, reason?: string | null) {
  const result = await retryFailedPayout(db, payoutId, actor, reason);
  if (result.runId) {
    // The watchdog resumes it anyway if this dispatch fails (retrying made its heartbeat stale).
    await workRunInBackground(db, env, result.runId, { reason: `retry-${payoutId}` }).catch(() => undefined);
  }
  return result;
}
