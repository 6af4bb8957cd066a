import { randomBytes } from "node:crypto";
import { NextRequest } from "next/server";
import Stripe from "stripe";
import { fixtureTemplate } from "../../lib/stripe/simulator/fixtures";
import type { StripeEvent } from "../../lib/webhooks/types";

// Stripe events for tests, built from the shared fixtures (`resources.event` plus the object
// fixtures) and signed the way Stripe signs them, with the SDK's own helper.

/**
 * A copy of a fixture object (`account`, `payment_intent`, `charge`, `dispute`, `payout`, `transfer`,
 * `invoice`), from the project's copy of shared/stripe/fixtures3.json that the simulator also uses,
 * so the tests do not depend on where the repository is cloned.
 */
export function fixture(name: string): Record<string, unknown> {
  return fixtureTemplate(name) as Record<string, unknown>;
}

let counter = 0;
export const uniqueId = (prefix: string) => `${prefix}_test${Date.now().toString(36)}${(counter++).toString(36)}${randomBytes(3).toString("hex")}`;

/** Deep-merge `patch` into `base` (objects merge, everything else replaces). */
function merge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(patch)) {
    const current = base[k];
    if (v && typeof v === "object" && !Array.isArray(v) && current && typeof current === "object" && !Array.isArray(current)) {
      base[k] = merge({ ...(current as Record<string, unknown>) }, v as Record<string, unknown>);
    } else {
      base[k] = v;
    }
  }
  return base;
}

/**
 * An event of `type` whose data.object is the fixture for `objectName`, patched. Defaults: a fresh
 * event id, created now, platform event (pass `account` for a Connect event).
 */
export function buildEvent(
  type: string,
  objectName: string,
  objectPatch: Record<string, unknown> = {},
  options: { id?: string; created?: number; account?: string | null; extra?: Record<string, unknown> } = {},
): StripeEvent {
  const event = fixture("event");
  const object = merge(fixture(objectName), objectPatch);
  // The fixture has every field Stripe sends; the type names the union this test means it to be.
  return {
    ...event,
    id: options.id ?? uniqueId("evt"),
    type,
    created: options.created ?? Math.floor(Date.now() / 1000),
    api_version: "2026-10-28.endive",
    ...(options.account ? { account: options.account } : {}),
    data: { object },
    ...options.extra,
  } as unknown as StripeEvent;
}

/** A Stripe-Signature header for `payload`, as Stripe computes it. */
export function signPayload(payload: string, secret: string, timestamp?: number): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
}

export const TEST_WEBHOOK_SECRET = "whsec_test_platform_current";
export const TEST_WEBHOOK_SECRET_PREVIOUS = "whsec_test_platform_previous";
export const TEST_CONNECT_SECRET = "whsec_test_connect_current";
export const TEST_CONNECT_SECRET_PREVIOUS = "whsec_test_connect_previous";

export const testWebhookSecrets = {
  STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
  STRIPE_WEBHOOK_SECRET_PREVIOUS: TEST_WEBHOOK_SECRET_PREVIOUS,
  STRIPE_CONNECT_WEBHOOK_SECRET: TEST_CONNECT_SECRET,
  STRIPE_CONNECT_WEBHOOK_SECRET_PREVIOUS: TEST_CONNECT_SECRET_PREVIOUS,
};

/** The body and signature header of a delivery of `event` (signed with the platform or Connect secret). */
export function signedDelivery(event: StripeEvent, options: { secret?: string; timestamp?: number } = {}) {
  const body = JSON.stringify(event);
  const secret = options.secret ?? (event.account ? TEST_CONNECT_SECRET : TEST_WEBHOOK_SECRET);
  return { body, signature: signPayload(body, secret, options.timestamp) };
}

/** A NextRequest for POST /webhooks/stripe, for calling the route handler directly. */
export function webhookRequest(body: string, signature: string | null, url = "http://localhost:3000/webhooks/stripe") {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (signature !== null) headers["stripe-signature"] = signature;
  return new NextRequest(url, { method: "POST", body, headers });
}
