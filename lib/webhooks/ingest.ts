import type { Db } from "../../db/client";
import { findUnstorableText, withStorableText } from "../schemas/common";
import { type ApplyResult, applyNewEvent, applyStoredEvent, recordApplyFailure } from "./apply";
import { isHandledType } from "./handlers";
import { storeStripeEvent } from "./store";
import type { AttemptTrigger, EventSource, HandlerContext, StripeEvent } from "./types";
import { verifyStripeSignature } from "./verify";

export type IntakeStatus = "processed" | "duplicate" | "ignored" | "pending" | "failed";
export type IntakeResult = { status: IntakeStatus; eventId: string; conflict?: boolean; error?: string };

type IntakeDeps = { env: HandlerContext["env"]; gateway: HandlerContext["gateway"] };

/**
 * The one intake path, for webhooks and for the Events API backfill. The first delivery of a type
 * Payrun handles is stored and applied in one transaction (applyNewEvent). Everything else is stored
 * (or found), then applied: a redelivery, a type Payrun does not use (stored as ignored), and a first
 * delivery whose handler threw, which is stored after the rollback and answered failed.
 * Already applied (or a payload conflict) answers duplicate without touching anything else.
 */
export async function ingestStripeEvent(
  db: Db,
  signedEvent: StripeEvent,
  signedOptions: IntakeDeps & { source: EventSource; trigger: AttemptTrigger; rawPayload?: string },
): Promise<IntakeResult> {
  const { event, options } = storableEvent(signedEvent, signedOptions);
  let firstAttemptError: string | undefined;
  if (isHandledType(event.type)) {
    const first = await applyNewEvent(db, event, options);
    if (first.status === "rolled_back") firstAttemptError = first.error;
    else if (first.status !== "stored_before") return { status: first.status, eventId: event.id };
  }

  const stored = await storeStripeEvent(db, event, {
    source: options.source,
    rawPayload: options.rawPayload,
  });
  if (stored.conflict) return { status: "duplicate", eventId: event.id, conflict: true };
  if (stored.status === "ignored")
    return { status: stored.inserted ? "ignored" : "duplicate", eventId: event.id };
  if (stored.status === "processed") return { status: "duplicate", eventId: event.id };
  if (firstAttemptError !== undefined && stored.inserted) {
    // Its handler failed a moment ago: record that attempt rather than run the handler again. The
    // caller answers 500, so Stripe delivers it again; the replay sweep retries it too.
    await recordApplyFailure(db, {
      processorEventId: stored.id,
      trigger: options.trigger,
      error: firstAttemptError,
    });
    return { status: "failed", eventId: event.id, error: firstAttemptError };
  }

  const result: ApplyResult = await applyStoredEvent(db, {
    processorEventId: stored.id,
    trigger: options.trigger,
    event,
    env: options.env,
    gateway: options.gateway,
  });
  switch (result.status) {
    case "processed":
    case "ignored":
    case "duplicate":
    case "pending":
      return { status: result.status, eventId: event.id };
    case "failed":
      return { status: "failed", eventId: event.id, error: result.error };
    default:
      // locked / capped do not happen without skipLocked or a replay trigger
      return { status: "pending", eventId: event.id };
  }
}

// JSON spells a NUL or a lone surrogate as an escape (a raw one is not valid JSON, or not UTF-8).
const UNSTORABLE_ESCAPE = /\\u0000|\\u[dD][89a-fA-F]/;

/**
 * The event as Payrun stores and applies it: text Postgres cannot hold (a NUL, a lone surrogate: a
 * 500 at the insert) replaced by U+FFFD, and the raw body dropped then, so the stored payload is the
 * cleaned one. Both deliveries of an event clean the same way, so their payload hashes still match.
 * A raw body with no such escape (every real one) is not walked at all.
 */
function storableEvent<O extends { rawPayload?: string }>(event: StripeEvent, options: O): { event: StripeEvent; options: O } {
  if (options.rawPayload !== undefined && !UNSTORABLE_ESCAPE.test(options.rawPayload)) return { event, options };
  if (findUnstorableText(event).length === 0) return { event, options };
  return { event: withStorableText(event), options: { ...options, rawPayload: undefined } };
}

/**
 * POST /webhooks/stripe after the body is read: verify (throws a DomainError, 400 at the route, nothing written), then
 * the intake path. The caller maps `failed` to 500 so Stripe delivers it again. The database may be
 * given as a function, opened only once the signature holds: a forged request never reaches it.
 */
export async function receiveStripeWebhook(
  db: Db | (() => Promise<Db>),
  request: { rawBody: string; signature: string | null },
  deps: IntakeDeps & { secrets: Parameters<typeof verifyStripeSignature>[2] },
): Promise<IntakeResult> {
  const { event } = verifyStripeSignature(request.rawBody, request.signature, deps.secrets);
  return ingestStripeEvent(typeof db === "function" ? await db() : db, event, {
    env: deps.env,
    gateway: deps.gateway,
    source: "webhook",
    trigger: "webhook",
    rawPayload: request.rawBody,
  });
}
