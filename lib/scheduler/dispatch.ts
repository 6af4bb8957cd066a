import { Client } from "@upstash/qstash";
import type { Env } from "../env";
import { log } from "../observability/log";

// How one internal job hands work to the next invocation: a QStash message (signed delivery,
// deduplicated, flow-controlled) in production, or a POST to the local server with X-Cron-Secret on
// the embedded default. Sweeps and the payout run both use it for their continuations.

export type InternalDispatch = {
  /** e.g. "/internal/payouts/continue" */
  path: string;
  body: Record<string, unknown>;
  /** The same id dispatched twice is one message (QStash deduplication; a local memory set). */
  dedupeId: string;
  delaySeconds?: number;
  /** Deliveries sharing a key run one at a time (QStash flow control). */
  flowControlKey?: string;
  retries?: number;
};

export type DispatchResult = { mode: "qstash" | "local"; messageId?: string; deduplicated?: boolean };

const localSeen = new Map<string, number>();
const LOCAL_DEDUPE_MS = 10 * 60 * 1000;

export function qstashClient(env: Pick<Env, "QSTASH_TOKEN" | "QSTASH_URL">): Client {
  if (!env.QSTASH_TOKEN) throw new Error("QSTASH_TOKEN is not set");
  return new Client({ token: env.QSTASH_TOKEN, ...(env.QSTASH_URL ? { baseUrl: env.QSTASH_URL } : {}) });
}

// QStash accepts letters, digits, '-', '_' and '.' in a deduplication id.
const safeId = (id: string) => id.replace(/[^A-Za-z0-9._-]/g, "_");

export async function dispatchInternal(
  env: Pick<Env, "QSTASH_TOKEN" | "QSTASH_URL" | "APP_BASE_URL" | "CRON_SECRET_KEY">,
  message: InternalDispatch,
): Promise<DispatchResult> {
  const url = new URL(message.path, env.APP_BASE_URL).toString();
  if (env.QSTASH_TOKEN) {
    const result = await qstashClient(env).publishJSON({
      url,
      body: message.body,
      deduplicationId: safeId(message.dedupeId),
      ...(message.delaySeconds ? { delay: Math.ceil(message.delaySeconds) } : {}),
      ...(message.flowControlKey ? { flowControl: { key: message.flowControlKey, parallelism: 1 } } : {}),
      retries: message.retries ?? 3,
    });
    const first = (Array.isArray(result) ? result[0] : result) as { messageId?: string; deduplicated?: boolean };
    return { mode: "qstash", messageId: first?.messageId, deduplicated: first?.deduplicated };
  }

  const now = Date.now();
  for (const [id, at] of localSeen) if (now - at > LOCAL_DEDUPE_MS) localSeen.delete(id);
  if (localSeen.has(message.dedupeId)) return { mode: "local", deduplicated: true };
  localSeen.set(message.dedupeId, now);
  if (!env.CRON_SECRET_KEY) throw new Error("CRON_SECRET_KEY is not set: the local dispatcher cannot call /internal");
  const secret = env.CRON_SECRET_KEY;
  // Fire and forget, like a queue: the caller's invocation ends while the next one works.
  setTimeout(() => {
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-cron-secret": secret },
      body: JSON.stringify(message.body),
    })
      .then((res) => {
        if (!res.ok) log.warn("local dispatch answered with an error", { path: message.path, status: res.status });
      })
      .catch((error: Error) => log.warn("local dispatch failed", { path: message.path, error: error.message }));
  }, (message.delaySeconds ?? 0) * 1000).unref?.();
  return { mode: "local" };
}
