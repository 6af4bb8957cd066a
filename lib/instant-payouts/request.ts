import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { type Payout, payouts } from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import { DomainError } from "../errors";
import { freezeBalances, type PostingLine, postLedgerTransaction } from "../ledger";
import { payoutKey } from "../payouts/keys";
import { isPayoutsPaused } from "../payouts/pause";
import { executeInstantPayout, INSTANT_LEASE_SECONDS } from "./execute";
import {
  accountRefusal,
  availableByLocation,
  dailyUsage,
  type InstantEnv,
  type InstantGateway,
  instantFee,
  limitRefusal,
  payeeAccount,
  stripeInstantState,
} from "./quote";

export type InstantRequest = {
  payeeId: string;
  currency: string;
  /** Gross: taken from the payee's available balance, the fee included. */
  amountCents: number;
  /** The fee the payee saw and confirmed; a different fee now is a conflict (quote again). */
  expectedFeeCents: number;
  /** One per confirmation (the client makes it): the same key twice makes one payout. */
  requestKey: string;
  actor: Actor;
};

/** How an instant payout's money splits between where it is (the platform, the connected account). */
export function splitInstant(
  available: { platform: number; connected: number },
  amountCents: number,
  feeCents: number,
): { netCents: number; transferCents: number; feeOnPlatform: number; feeDebitCents: number } {
  const netCents = amountCents - feeCents;
  // The fee from the platform's part first (no Stripe movement), the rest by account debit.
  const feeOnPlatform = Math.min(feeCents, available.platform);
  const feeDebitCents = feeCents - feeOnPlatform;
  // The payout from the connected account first (no transfer), the rest transferred from the platform.
  const fromConnected = Math.min(netCents, available.connected - feeDebitCents);
  return { netCents, transferCents: netCents - fromConnected, feeOnPlatform, feeDebitCents };
}

/**
 * Claim the payee's available balance for an instant payout, the way the run's planning claims it:
 * freeze the balances (one lock, the same planning takes, so the two queue one behind the other),
 * read what is available, move amount and fee out of available, and write the payout row with its
 * Stripe idempotency keys and a lease for this invocation, all in one transaction. Whichever of the
 * run and the instant payout freezes first takes the money; the other finds it gone.
 */
export async function claimInstantPayout(
  db: Db,
  env: InstantEnv,
  input: InstantRequest & { stripeAccountId: string; owner: string },
): Promise<{ payout: Payout; created: boolean }> {
  return db.transaction(async (tx) => {
    const again = await findByRequestKey(tx, input);
    if (again) return { payout: again, created: false };
    await freezeBalances(tx);
    // Two requests with the same key: the second waited on the freeze and now sees the first.
    const raced = await findByRequestKey(tx, input);
    if (raced) return { payout: raced, created: false };
    const account = await payeeAccount(tx, input.payeeId);
    const refusal = accountRefusal(account);
    if (refusal) throw new DomainError("precondition_failed", refusal);
    if (account.stripe_account_id !== input.stripeAccountId)
      throw new DomainError("conflict", "The payout account changed; please look at the quote again.");
    const available = await availableByLocation(tx, input.payeeId, input.currency);
    const daily = await dailyUsage(tx, input.payeeId);
    const total = available.total;
    const feeCents = instantFee(input.amountCents, env);
    if (feeCents !== input.expectedFeeCents)
      throw new DomainError(
        "conflict",
        `The fee for this amount is ${feeCents} cents, not ${input.expectedFeeCents}; please look at the quote again.`,
        {
          feeCents,
        },
      );
    const limit = limitRefusal(
      env,
      daily,
      input.amountCents,
      Math.min(total, env.INSTANT_PAYOUT_DAILY_LIMIT_CENTS),
      feeCents,
      total,
    );
    if (limit) throw new DomainError("conflict", limit, { availableCents: total });
    const split = splitInstant(available, input.amountCents, feeCents);
    const id = randomUUID();
    const generation = { id, retries: 0 };
    const connectedPart = split.netCents - split.transferCents + split.feeDebitCents;
    const lines: PostingLine[] = [
      { payeeId: input.payeeId, kind: "available", location: "connected", amount: -connectedPart },
      { payeeId: input.payeeId, kind: "in_transit", location: "connected", amount: connectedPart },
      {
        payeeId: input.payeeId,
        kind: "available",
        location: "platform",
        amount: -(split.transferCents + split.feeOnPlatform),
      },
      { payeeId: input.payeeId, kind: "in_transit", location: "platform", amount: split.transferCents },
      { kind: "fees", amount: split.feeOnPlatform },
    ].filter((l) => l.amount !== 0) as PostingLine[];
    const posting = await postLedgerTransaction(tx, {
      idempotencyKey: payoutKey(generation, "planned"),
      kind: "payout_planned",
      description: "instant payout: available -> in transit, fee to the platform",
      currency: input.currency,
      payeeId: input.payeeId,
      sourceType: "payout",
      sourceId: id,
      metadata: { instant: true, fee_cents: feeCents, transfer_amount_cents: split.transferCents },
      lines,
    });
    const [row] = await tx
      .insert(payouts)
      .values({
        id,
        runId: null,
        payeeId: input.payeeId,
        connectedAccountId: account.connected_account_id,
        stripeAccountId: input.stripeAccountId,
        amountCents: split.netCents,
        currency: input.currency,
        transferAmountCents: split.transferCents,
        status: "processing",
        origin: "instant",
        method: "instant",
        requestKey: `instant:${input.payeeId}:${input.requestKey}`,
        feeCents,
        feeDebitCents: split.feeDebitCents,
        // Every Stripe key stored before the first call.
        transferIdempotencyKey: split.transferCents > 0 ? payoutKey(generation, "transfer") : null,
        feeIdempotencyKey: split.feeDebitCents > 0 ? payoutKey(generation, "fee") : null,
        payoutIdempotencyKey: payoutKey(generation, "payout"),
        firstAttemptAt: sql`now()`,
        attempts: 0,
        leaseOwner: input.owner,
        leaseExpiresAt: sql`now() + make_interval(secs => ${INSTANT_LEASE_SECONDS})`,
        ledgerTransactionId: posting.transactionId,
      })
      .returning();
    await recordAudit(tx, {
      actor: input.actor,
      action: "payout.instant_requested",
      entityType: "payout",
      entityId: id,
      after: {
        status: "processing",
        amountCents: input.amountCents,
        feeCents,
        netCents: split.netCents,
        transferAmountCents: split.transferCents,
        feeDebitCents: split.feeDebitCents,
        currency: input.currency,
      },
    });
    return { payout: row!, created: true };
  });
}

async function findByRequestKey(
  tx: Db,
  input: { payeeId: string; requestKey: string },
): Promise<Payout | undefined> {
  const [row] = await tx
    .select()
    .from(payouts)
    .where(eq(payouts.requestKey, `instant:${input.payeeId}:${input.requestKey}`));
  return row;
}

/**
 * POST /api/v1/payees/:id/instant-payouts: check at Stripe (an eligible card, instant_available),
 * claim the balance, then pay it in this invocation. Answers the payout as it stands: in_transit when
 * Stripe took it, failed with the reason when Stripe refused it (money and fee back in available),
 * processing when the calls were cut short (the resume sweep finishes it). The same request key again
 * answers the same payout.
 */
export async function requestInstantPayout(
  db: Db,
  gateway: InstantGateway,
  env: InstantEnv,
  input: InstantRequest,
): Promise<{ payout: Payout; created: boolean }> {
  const account = await payeeAccount(db, input.payeeId);
  const refusal = accountRefusal(account);
  if (refusal) throw new DomainError("precondition_failed", refusal);
  if (await isPayoutsPaused(db, env))
    throw new DomainError(
      "precondition_failed",
      "Payouts are paused by the platform for now; please try again later.",
    );
  const stripeAccountId = account.stripe_account_id!;
  const [existing] = await db
    .select()
    .from(payouts)
    .where(eq(payouts.requestKey, `instant:${input.payeeId}:${input.requestKey}`));
  if (existing) return { payout: existing, created: false };
  const stripe = await stripeInstantState(gateway, stripeAccountId, input.currency);
  if (!stripe.card)
    throw new DomainError(
      "precondition_failed",
      "Add a debit card that accepts instant payouts to your payout account first.",
    );
  const available = await availableByLocation(db, input.payeeId, input.currency);
  if (input.amountCents > stripe.instantAvailableCents + available.platform)
    throw new DomainError(
      "conflict",
      "This is more than can be paid out instantly now; please look at the quote again.",
      {
        instantAvailableCents: stripe.instantAvailableCents + available.platform,
      },
    );
  const owner = `instant:${randomUUID()}`;
  const claimed = await claimInstantPayout(db, env, { ...input, stripeAccountId, owner });
  if (!claimed.created) return claimed;
  await executeInstantPayout({ db, gateway, actor: input.actor, owner }, claimed.payout.id);
  const [now] = await db.select().from(payouts).where(eq(payouts.id, claimed.payout.id));
  return { payout: now!, created: true };
}
