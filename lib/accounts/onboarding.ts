import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { type ConnectedAccount, connectedAccounts, payees } from "../../db/schema";
import { type Actor, systemActor } from "../actor";
import { DomainError, notFound } from "../errors";
import { recordAudit } from "../audit";
import type { StripeGateway } from "../stripe/gateway";
import { applyBankAccounts, bankAccountsOfAccount } from "./bank-accounts";

/** The gateway calls onboarding makes. */
export type OnboardingGateway = Pick<StripeGateway, "createExpressAccount" | "createAccountLink" | "createLoginLink">;

/**
 * The payee's Express account, created on first call with a manual payout schedule (the gateway
 * sets it at creation: the payout run decides when money leaves). The idempotency key is derived from
 * the payee id (already stored, so it exists before the call), so a retried or concurrent call within
 * Stripe's 24 h window reaches the same Stripe account and the unique payee index keeps one row.
 *
 * Known limit, accepted: Stripe cannot look an account up by metadata, so if the process dies between
 * Stripe's answer and the insert below AND the payee retries more than 24 h later, a second Express
 * account is created and the first is left orphaned. That costs no money: no transfer, payout or
 * ledger row ever references an account Payrun has not stored, and the orphan has no bank details
 * and never finishes onboarding. To make the window as small as possible, the insert is retried at
 * once on a transient database error rather than left to the payee's next click. The insert and its
 * audit row commit together.
 */
export async function createConnectedAccountForPayee(
  db: Db,
  gateway: OnboardingGateway,
  payeeId: string,
  actor: Actor = systemActor("onboarding"),
): Promise<ConnectedAccount> {
  return (await ensureConnectedAccount(db, gateway, payeeId, actor)).account;
}

/** The same, saying whether this call created it (the API answers 201 then, 200 after). */
export async function ensureConnectedAccount(
  db: Db,
  gateway: OnboardingGateway,
  payeeId: string,
  actor: Actor = systemActor("onboarding"),
): Promise<{ account: ConnectedAccount; created: boolean }> {
  const existing = await findConnectedAccount(db, payeeId);
  if (existing) return { account: existing, created: false };
  const [payee] = await db.select().from(payees).where(eq(payees.id, payeeId));
  if (!payee) throw notFound("payee");

  const account = await gateway.createExpressAccount({
    email: payee.email,
    country: payee.country,
    payeeId,
    idempotencyKey: `connected-account:${payeeId}`,
  });
  const inserted = await withPromptRetry(() =>
    db.transaction(async (tx) => {
      const [row] = await tx
        .insert(connectedAccounts)
        .values({
          payeeId,
          stripeAccountId: account.id,
          type: "express",
          country: account.country ?? payee.country,
          businessType: account.business_type ?? null,
          payoutScheduleInterval: "manual",
        })
        .onConflictDoNothing()
        .returning();
      if (row) {
        await recordAudit(tx, {
          actor,
          action: "connected_account.created",
          entityType: "connected_account",
          entityId: account.id,
          after: row,
          reason: "Express account created for payee onboarding",
        });
        // Its bank accounts as Stripe returned them: a fingerprint another payee has holds both.
        const banks = bankAccountsOfAccount(account);
        if (banks) {
          const stateAt = new Date((account.created ?? Math.floor(Date.now() / 1000)) * 1000);
          await applyBankAccounts(tx, { stripeAccountId: account.id, ...banks, stateAt, actor });
        }
      }
      return row;
    }),
  );
  if (inserted) return { account: inserted, created: true };
  const raced = await findConnectedAccount(db, payeeId);
  if (!raced) throw new Error(`connected account for payee ${payeeId} neither inserted nor found`);
  return { account: raced, created: false };
}

/** Retries a database write a few times, quickly: used where giving up would orphan a Stripe object. */
async function withPromptRetry<T>(write: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/**
 * A Stripe-hosted onboarding link. Links are single use and expire within minutes, so each call
 * makes a new one; the key (account row id + a fresh nonce) only makes the SDK's own retries safe.
 */
export async function createOnboardingLink(
  db: Db,
  gateway: OnboardingGateway,
  payeeId: string,
  urls: { returnUrl: string; refreshUrl: string },
): Promise<{ url: string; expiresAt: Date | null; stripeAccountId: string }> {
  const account = await requireConnectedAccount(db, payeeId);
  const link = await gateway.createAccountLink({
    account: account.stripeAccountId,
    refreshUrl: urls.refreshUrl,
    returnUrl: urls.returnUrl,
    idempotencyKey: `account-link:${account.id}:${randomUUID()}`,
  });
  return {
    url: link.url,
    expiresAt: link.expires_at ? new Date(link.expires_at * 1000) : null,
    stripeAccountId: account.stripeAccountId,
  };
}

/** A one-time login link to the payee's Express dashboard (only once onboarding is submitted). */
export async function createDashboardLoginLink(
  db: Db,
  gateway: OnboardingGateway,
  payeeId: string,
): Promise<{ url: string; stripeAccountId: string }> {
  const account = await requireConnectedAccount(db, payeeId);
  if (!account.detailsSubmitted) {
    throw new DomainError(
      "precondition_failed",
      "finish Stripe onboarding before opening the Express dashboard",
    );
  }
  const link = await gateway.createLoginLink(
    account.stripeAccountId,
    `login-link:${account.id}:${randomUUID()}`,
  );
  return { url: link.url, stripeAccountId: account.stripeAccountId };
}

export async function findConnectedAccount(db: Db, payeeId: string): Promise<ConnectedAccount | null> {
  const [row] = await db.select().from(connectedAccounts).where(eq(connectedAccounts.payeeId, payeeId));
  return row ?? null;
}

async function requireConnectedAccount(db: Db, payeeId: string): Promise<ConnectedAccount> {
  const account = await findConnectedAccount(db, payeeId);
  if (!account) throw notFound("connected account for this payee");
  return account;
}
