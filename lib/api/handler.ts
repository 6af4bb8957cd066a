import type { NextRequest } from "next/server";
import { ZodError } from "zod";
import { type Db, getDb } from "../../db/client";
import { type Actor, systemActor } from "../actor";
import { authenticateInternal, type InternalCaller, publicUrl } from "../auth/internal";
import { type Env, getEnv } from "../env";
import { DomainError } from "../errors";
import { log, reportError } from "../observability/log";
import { ApiError, fromDomainError } from "./errors";
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
 * Every /internal/* route: QStash signature or X-Cron-Secret on the raw body, before anything is
 * parsed or written; 401 JSON otherwise. The handler gets the db, config and a system actor.
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
      const actor = systemActor(caller.kind === "qstash" ? "qstash" : "ops");
      return await handler({ req, url: new URL(req.url), rawBody, params: await route.params, db, env, caller, actor });
    } catch (error) {
      return toErrorResponse(error, where);
    }
  };
}
