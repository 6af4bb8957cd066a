import type { Db } from "../../db/client";
import type { PayoutScheduleGateway } from "../accounts/state";
import type { Actor } from "../actor";
import type { Env } from "../env";

/** The part of a Stripe event Payrun reads; `data.object` is the resource as it was at `created`. */
export type StripeEvent = {
  id: string;
  type: string;
  created: number;
  livemode?: boolean;
  api_version?: string | null;
  account?: string | null;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  [key: string]: unknown;
};

/** Where an event came from, and so which attempt trigger it records. */
export type EventSource = "webhook" | "events_api_backfill" | "replay";
export type AttemptTrigger = "webhook" | "replay_sweep" | "replay_request" | "backfill";

/** The part of a charge a handler reads when an event does not carry it (disputes). */
export type ChargeDestination = { transfer_data?: { destination?: unknown } | null };

/**
 * The Stripe calls a handler may make: account.updated puts a payout schedule back to manual; a
 * dispute on a charge Payrun credited nobody for reads the charge to see whether it was a
 * destination charge. The StripeGateway satisfies it.
 */
export type WebhookGateway = PayoutScheduleGateway & {
  retrieveCharge(chargeId: string): Promise<ChargeDestination>;
};

export type HandlerContext = {
  event: StripeEvent;
  actor: Actor;
  env: Pick<Env, "PAYOUT_RESERVE_PERCENT" | "PAYOUT_RESERVE_DAYS">;
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

/** Runs inside the event's transaction: use only `tx`. */
export type EventHandler = (tx: Db, ctx: HandlerContext) => Promise<HandlerOutcome>;

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
