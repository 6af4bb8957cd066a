import type { NextRequest } from "next/server";
import { ZodError } from "zod";
import { type Db, getDb } from "../../db/client";
import { type Actor, systemActor } from "../actor";
import { authenticateInternal, type InternalCaller, publicUrl } from "../auth/internal";
import { type Env, getEnv } from "../env";
import { DomainError } from "../errors";
import { log, reportError } from "../observability/log";
import { ApiError, fromDomainError } from "./errors";
import { findCompletedDelivery, recordCompletedDelivery } from "./qstash-deliveries";
import { errorResponse } from "./respond";

export type RouteParams = Record<string, string | string[] | undefined>;
export type RouteContext<P> = { params: Promise<P> };

export type RequestContext<P> = {
  req: NextRequest;
  url: URL;
  rawBody: string;
  params: P;
  db: Db;
  env: Env;
};

export type InternalContext<P> = RequestContext<P> & { caller: InternalCaller; actor: Actor };

export const MAX_BODY_BYTES = 1024 * 1024;

/** Read the raw body once (signatures are checked on it), refusing anything over the limit. */
export async function readRawBody(req: Request, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? 0);
  if (declared > limit) throw new ApiError("payload_too_large", `body over ${limit} bytes`);
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new ApiError("payload_too_large", `body over ${limit} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Map anything thrown by a handler to a JSON answer; only the unexpected goes to Sentry. */
export function toErrorResponse(thrown: unknown, where: string) {
  const error = thrown instanceof DomainError ? fromDomainError(thrown) : thrown;
  if (error instanceof ApiError) {
    if (error.status >= 500) reportError(error, { where });
    else log.info("request refused", { where, code: error.code, message: error.message });
    return errorResponse(error);
  }
  if (error instanceof ZodError) {
    return errorResponse(new ApiError("bad_request", error.issues.map((i) => i.message).join("; "), error.issues));
  }
  reportError(error, { where });
  return errorResponse(new ApiError("internal_error", "internal error; it has been reported"));
}

/**
 * Remember a QStash delivery that succeeded. The work is committed by now: failing to remember it
 * must not turn the success into a 500 (QStash would deliver it again and the work run twice).
 */
async function rememberDelivery(
  db: Db,
  delivery: { signatureId: string; messageId?: string },
  path: string,
  response: Response,
  where: string,
): Promise<void> {
  try {
    const responseBody = await response.clone().text();
    await recordCompletedDelivery(db, { ...delivery, path, status: response.status, responseBody });
  } catch (error) {
    reportError(error, { where, during: "remembering a QStash delivery" });
  }
}

/**
 * Every /internal/* route: QStash signature or X-Cron-Secret on the raw body, before anything is
 * parsed or written; 401 JSON otherwise. The handler gets the db, config and a system actor.
 * A QStash message whose delivery already succeeded is answered as it was then, without running
 * the handler again (lib/api/qstash-deliveries.ts); cron-secret calls have no message id.
 */
export function withInternal<P extends RouteParams = Record<string, never>>(
  handler: (ctx: InternalContext<P>) => Promise<Response>,
) {
  return async (req: NextRequest, route: RouteContext<P>): Promise<Response> => {
    const where = `${req.method} ${new URL(req.url).pathname}`;
    try {
      const env = getEnv();
      const rawBody = await readRawBody(req);
      const caller = await authenticateInternal(req.headers, rawBody, publicUrl(req.url, env.APP_BASE_URL), env);
      if (!caller) {
        return errorResponse(
          new ApiError("unauthorized", "internal endpoint: send X-Cron-Secret or a valid Upstash-Signature"),
        );
      }
      const db = await getDb();
      const delivery =
        caller.kind === "qstash" ? { signatureId: caller.signatureId, messageId: caller.messageId } : undefined;
      if (delivery) {
        const earlier = await findCompletedDelivery(db, delivery);
        if (earlier) {
          log.info("qstash delivery already applied; answering as the first time", { where, ...delivery });
          return new Response(earlier.responseBody, {
            status: earlier.status,
            headers: { "content-type": "application/json", "cache-control": "no-store", "payrun-duplicate": "true" },
          });
        }
      }
      const actor = systemActor(caller.kind === "qstash" ? "qstash" : "ops");
      const url = new URL(req.url);
      const response = await handler({ req, url, rawBody, params: await route.params, db, env, caller, actor });
      if (delivery && response.ok) await rememberDelivery(db, delivery, url.pathname, response, where);
      return response;
    } catch (error) {
      return toErrorResponse(error, where);
    }
  };
}
