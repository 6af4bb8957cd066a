import { Client } from "@upstash/qstash";
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { Env } from "../env";

// How one internal job hands work to the next invocation: a QStash message (signed delivery,
// deduplicated, delayed, flow-controlled, retried) in production; on the embedded default, a row in
// local_dispatches that the local pump (./local-pump.ts) delivers with X-Cron-Secret. The row is
// written before the caller answers, so a delayed continuation survives the process that asked for
// it, as a QStash message would. Sweeps and the payout run both use it for their continuations.

export type InternalDispatch = {
  /** e.g. "/internal/payouts/continue" */
  path: string;
  body: Record<string, unknown>;
  /** The same id dispatched twice is one message (QStash deduplication; a unique key locally). */
  dedupeId: string;
  delaySeconds?: number;
  /** Deliveries sharing a key run one at a time (QStash flow control, parallelism 1). */
  flowControlKey?: string;
  retries?: number;
};

export type DispatchResult = { mode: "qstash" | "local"; messageId?: string; deduplicated?: boolean };

export function qstashClient(env: Pick<Env, "QSTASH_TOKEN" | "QSTASH_URL">): Client {
  if (!env.QSTASH_TOKEN) throw new Error("QSTASH_TOKEN is not set");
  return new Client({ token: env.QSTASH_TOKEN, ...(env.QSTASH_URL ? { baseUrl: env.QSTASH_URL } : {}) });
}

// QStash accepts letters, digits, '-', '_' and '.' in a deduplication id.
const safeId = (id: string) => id.replace(/[^A-Za-z0-9._-]/g, "_");

export async function dispatchInternal(
  db: Db,
  env: Pick<Env, "QSTASH_TOKEN" | "QSTASH_URL" | "APP_BASE_URL">,
  message: InternalDispatch,
): Promise<DispatchResult> {
  const retries = message.retries ?? 3;
  if (env.QSTASH_TOKEN) {
    const result = await qstashClient(env).publishJSON({
      url: new URL(message.path, env.APP_BASE_URL).toString(),
      body: message.body,
      deduplicationId: safeId(message.dedupeId),
      ...(message.delaySeconds ? { delay: Math.ceil(message.delaySeconds) } : {}),
      ...(message.flowControlKey ? { flowControl: { key: message.flowControlKey, parallelism: 1 } } : {}),
      retries,
    });
    const first = (Array.isArray(result) ? result[0] : result) as { messageId?: string; deduplicated?: boolean };
    return { mode: "qstash", messageId: first?.messageId, deduplicated: first?.deduplicated };
  }
  const inserted = await queryRows(
    db,
    sql`insert into local_dispatches (dedupe_id, path, body, flow_control_key, due_at, max_attempts)
        values (${message.dedupeId}, ${message.path}, ${JSON.stringify(message.body)}::jsonb, ${message.flowControlKey ?? null},
                now() + make_interval(secs => ${message.delaySeconds ?? 0}), ${retries + 1})
        on conflict (dedupe_id) do nothing
        returning id`,
  );
  return { mode: "local", deduplicated: inserted.length === 0 };
}
