import Stripe from "stripe";
import { z } from "zod";
import { DomainError } from "../errors";
import type { Env } from "../env";
import { unstorableText } from "../schemas/common";
import type { StripeEvent } from "./types";

/** Stripe's default: a signature older (or newer) than this is refused (replay protection). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

type SecretEnv = Pick<
  Env,
  | "STRIPE_WEBHOOK_SECRET"
  | "STRIPE_WEBHOOK_SECRET_PREVIOUS"
  | "STRIPE_CONNECT_WEBHOOK_SECRET"
  | "STRIPE_CONNECT_WEBHOOK_SECRET_PREVIOUS"
>;

export type VerifiedEvent = { event: StripeEvent; endpoint: "platform" | "connect" };

// The fields Payrun relies on; the rest of the payload is stored as Stripe sent it (text Postgres
// cannot hold made storable first: ingest.ts). The keys Payrun files the event under are refused
// instead, since replacing a character there would file it under another id.
const keyText = z
  .string()
  .min(1)
  .max(255)
  .refine((v) => unstorableText(v) === null, "must be text Postgres can store");
const eventShape = z.looseObject({
  id: keyText,
  object: z.literal("event").optional(),
  type: keyText,
  created: z.number().int().nonnegative(),
  livemode: z.boolean().optional(),
  api_version: z.string().nullish(),
  account: keyText.nullish(),
  data: z.looseObject({ object: z.looseObject({}) }),
});

/** The header's `t=` as the SDK reads it (the last one wins), or null when there is none. */
function signatureTimestamp(header: string): number | null {
  let timestamp: number | null = null;
  for (const item of header.split(",")) {
    const [key, value] = item.split("=");
    if (key === "t") timestamp = Number.parseInt(value ?? "", 10);
  }
  return timestamp !== null && Number.isFinite(timestamp) ? timestamp : null;
}

/**
 * Verify `Stripe-Signature` over the raw body with every configured secret: the platform endpoint's
 * and the Connect endpoint's, current and previous (a rotation keeps both valid for a while). Throws
 * a DomainError (400 at the route) on a missing, bad, stale or tampered signature and on a body that is not an event;
 * nothing is parsed before the signature checks out.
 */
export function verifyStripeSignature(rawBody: string, header: string | null, env: SecretEnv): VerifiedEvent {
  if (!header) throw new DomainError("invalid_signature", "missing Stripe-Signature header");
  // The SDK refuses a signature older than the tolerance but not one from the future: a signature
  // made for later would be replayable until long after it was captured. Refuse beyond it either way.
  const signedAt = signatureTimestamp(header);
  if (signedAt !== null && signedAt - Date.now() / 1000 > SIGNATURE_TOLERANCE_SECONDS) {
    throw new DomainError(
      "invalid_signature",
      `invalid Stripe signature: timestamped more than ${SIGNATURE_TOLERANCE_SECONDS} s in the future`,
    );
  }
  const secrets: [string | undefined, "platform" | "connect"][] = [
    [env.STRIPE_WEBHOOK_SECRET, "platform"],
    [env.STRIPE_WEBHOOK_SECRET_PREVIOUS, "platform"],
    [env.STRIPE_CONNECT_WEBHOOK_SECRET, "connect"],
    [env.STRIPE_CONNECT_WEBHOOK_SECRET_PREVIOUS, "connect"],
  ];
  // A Connect event names its account; trying the Connect secrets first saves an HMAC on them.
  if (rawBody.includes('"account"')) secrets.push(secrets.shift()!, secrets.shift()!);
  let endpoint: VerifiedEvent["endpoint"] | undefined;
  let lastError = "no webhook secret is configured";
  for (const [secret, kind] of secrets) {
    if (!secret) continue;
    try {
      Stripe.webhooks.signature!.verifyHeader(rawBody, header, secret, SIGNATURE_TOLERANCE_SECONDS);
      endpoint = kind;
      break;
    } catch (error) {
      lastError = (error as Error).message;
    }
  }
  if (!endpoint) throw new DomainError("invalid_signature", `invalid Stripe signature: ${lastError}`);

  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody);
  } catch {
    throw new DomainError("invalid_json", "body is not valid JSON");
  }
  const result = eventShape.safeParse(parsed);
  if (!result.success) {
    throw new DomainError(
      "invalid_event",
      `not a Stripe event: ${result.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
    );
  }
  return { event: result.data as unknown as StripeEvent, endpoint };
}
