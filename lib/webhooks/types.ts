import type Stripe from "stripe";
import type { Db } from "../../db/client";
import type { StripeGateway } from "../stripe/gateway";
import type { Actor } from "../actor";
import type { Env } from "../env";

/**
 * A Stripe event as the SDK types it: a union narrowed by `type`, whose `data.object` is the
 * resource as it was at `created` (Stripe.Payout for payout.paid, ...).
 */
export type StripeEvent = Stripe.Event;

/** The event of one type: `EventOf<"payout.paid">` is Stripe.PayoutPaidEvent. */
export type EventOf<T extends Stripe.Event.Type> = Extract<Stripe.Event, { type: T }>;

/** Where an event came from, and so which attempt trigger it records. */
export type EventSource = "webhook" | "events_api_backfill" | "replay";
export type AttemptTrigger = "webhook" | "replay_sweep" | "replay_request" | "backfill";

/**
 * The Stripe calls a handler may make: account.updated puts a payout schedule back to manual; a
 * dispute on a charge Payrun credited nobody for reads the charge to see whether it was a
 * destination charge; refunds, fee refunds and reversals are read in Stripe's numbers (events carry
 * ids, not the amounts of the objects they name); a recovery reverses a transfer.
 */
export type WebhookGateway = Pick<
  StripeGateway,
  | "setManualPayoutSchedule"
  | "retrieveCharge"
  | "retrieveChargeWithBalance"
  | "listRefunds"
  | "retrieveRefund"
  | "listTransferReversals"
  | "listApplicationFeeRefunds"
  | "createTransferReversal"
>;

export type HandlerContext<E extends StripeEvent = StripeEvent> = {
  event: E;
  actor: Actor;
  env: Pick<Env, "PAYOUT_RESERVE_PERCENT" | "PAYOUT_RESERVE_DAYS" | "PAYEE_RECOVERY_POLICY">;
  /** Created on first use: most events never call Stripe. */
  gateway: () => WebhookGateway;
  now: Date;
};

/**
 * applied: the effect is written (or was already there / is older than what we hold).
 * pending: it refers to something Payrun does not know yet; the replay sweep tries again.
 * ignored: nothing in it concerns Payrun (e.g. a payment intent that is not a destination charge).
 */
export type HandlerOutcome = { outcome: "applied" | "ignored" } | { outcome: "pending"; reason: string };

/** Runs inside the event's transaction: use only `tx`. Typed by the events it handles. */
export type EventHandler<E extends StripeEvent = StripeEvent> = (tx: Db, ctx: HandlerContext<E>) => Promise<HandlerOutcome>;

/** The handler of one or more event types: `HandlerOf<"payout.paid">` gets a Stripe.PayoutPaidEvent. */
export type HandlerOf<T extends Stripe.Event.Type> = EventHandler<EventOf<T>>;

export const applied: HandlerOutcome = { outcome: "applied" };
export const ignored: HandlerOutcome = { outcome: "ignored" };
export const pending = (reason: string): HandlerOutcome => ({ outcome: "pending", reason });

/** Stripe sends an expandable field either as an id or as the object. */
export function expandableId(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && typeof (value as { id?: unknown }).id === "string") {
    return (value as { id: string }).id;
  }
  return null;
}

export const eventTime = (event: StripeEvent) => new Date(event.created * 1000);
