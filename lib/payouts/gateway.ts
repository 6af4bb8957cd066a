import { classifyStripeError, StripeGatewayError } from "../stripe/errors";
import { getStripeGateway } from "../stripe/client";

// The part of the Stripe gateway (lib/stripe/gateway.ts) the payout run uses. A structural type, so
// the real gateway fits it and the run does not depend on the rest of the gateway.

export type StripeTransferLike = { id: string; amount: number; currency: string; transfer_group?: string | null; metadata?: Record<string, string> | null; reversed?: boolean };
export type StripePayoutLike = { id: string; amount: number; currency: string; status: string; metadata?: Record<string, string> | null; arrival_date?: number | null; failure_code?: string | null; failure_message?: string | null };
type ListLike<T> = { data: T[]; has_more?: boolean } | T[];

export interface PayoutGateway {
  createTransfer(input: {
    amount: number;
    currency: string;
    destination: string;
    transferGroup?: string;
    metadata?: Record<string, string>;
    idempotencyKey: string;
  }): Promise<StripeTransferLike>;
  listTransfers(input: { transferGroup?: string; destination?: string; limit?: number }): Promise<ListLike<StripeTransferLike>>;
  createPayout(input: {
    stripeAccount: string;
    amount: number;
    currency: string;
    metadata?: Record<string, string>;
    description?: string;
    idempotencyKey: string;
  }): Promise<StripePayoutLike>;
  listPayouts(input: { stripeAccount: string; limit?: number; startingAfter?: string }): Promise<ListLike<StripePayoutLike>>;
}

export function listData<T>(list: ListLike<T>): { data: T[]; hasMore: boolean } {
  return Array.isArray(list) ? { data: list, hasMore: false } : { data: list.data, hasMore: list.has_more === true };
}

export type ClassifiedError = { retryable: boolean; rateLimited: boolean; code: string; message: string };

/** Retryable (429, 5xx, network, lock timeouts) or final, from the gateway's classification. */
export function classifyPayoutError(error: unknown): ClassifiedError {
  const own = error as { code?: unknown; retryable?: unknown; message?: unknown } | null;
  // Our own refusals (no connected account, ...) carry code and retryable themselves.
  if (own && typeof own.retryable === "boolean" && !(error instanceof StripeGatewayError)) {
    return { retryable: own.retryable, rateLimited: false, code: String(own.code ?? "error"), message: String(own.message ?? "") };
  }
  const c = classifyStripeError(error);
  return {
    retryable: c.retryable,
    rateLimited: c.kind === "rate_limited",
    code: c.failureCode ?? c.code ?? c.declineCode ?? c.kind,
    message: c.message,
  };
}

/** The app's gateway (real Stripe, test mode or the simulator, from configuration). */
export function getPayoutGateway(): PayoutGateway {
  return getStripeGateway();
}
