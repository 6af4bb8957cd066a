import { Receiver } from "@upstash/qstash";
import type { Env } from "../env";
import { secretsEqual } from "./constant-time";

export type InternalCaller =
  | { kind: "cron_secret" }
  /** signatureId: the signature's jti (new on every QStash delivery, the same on a replay). */
  | { kind: "qstash"; signatureId: string; messageId?: string; retried: number };

/** The jti of a JWT whose signature was just verified (QStash puts one in every signature). */
function signatureId(jwt: string): string | null {
  try {
    const claims = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8")) as { jti?: unknown };
    return typeof claims.jti === "string" && claims.jti.length > 0 && claims.jti.length <= 200 ? claims.jti : null;
  } catch {
    return null;
  }
}

/**
 * Who may call /internal/*: ops with `X-Cron-Secret`, or QStash with a valid `Upstash-Signature`
 * over the raw body and this URL. Returns null for anyone else. Never throws on bad input.
 * A secret that is not configured lets nobody in.
 */
export async function authenticateInternal(
  headers: Headers,
  rawBody: string,
  url: string,
  env: Pick<Env, "CRON_SECRET_KEY" | "QSTASH_CURRENT_SIGNING_KEY" | "QSTASH_NEXT_SIGNING_KEY">,
): Promise<InternalCaller | null> {
  const cronSecret = headers.get("x-cron-secret");
  if (cronSecret !== null) {
    return secretsEqual(cronSecret, env.CRON_SECRET_KEY) ? { kind: "cron_secret" } : null;
  }
  const signature = headers.get("upstash-signature");
  if (signature && env.QSTASH_CURRENT_SIGNING_KEY && env.QSTASH_NEXT_SIGNING_KEY) {
    const receiver = new Receiver({
      currentSigningKey: env.QSTASH_CURRENT_SIGNING_KEY,
      nextSigningKey: env.QSTASH_NEXT_SIGNING_KEY,
      devMode: false,
    });
    try {
      // verify() throws SignatureError on a bad signature, expired token, body hash or URL mismatch.
      const ok = await receiver.verify({ signature, body: rawBody, url, clockTolerance: 5 });
      const jti = ok ? signatureId(signature) : null;
      if (!jti) return null;
      const messageId = headers.get("upstash-message-id") ?? "";
      return {
        kind: "qstash",
        signatureId: jti,
        // Not covered by the signature: anything odd is treated as absent (the jti still dedupes).
        messageId: messageId.length > 0 && messageId.length <= 200 ? messageId : undefined,
        retried: Number(headers.get("upstash-retried") ?? 0) || 0,
      };
    } catch {
      return null;
    }
  }
  return null;
}

/** The URL QStash signed: our public base URL plus the path, not whatever Host the proxy passed on. */
export function publicUrl(requestUrl: string, appBaseUrl: string): string {
  const incoming = new URL(requestUrl);
  const base = new URL(appBaseUrl);
  return new URL(`${incoming.pathname}${incoming.search}`, base).toString();
}
