import type { NextRequest } from "next/server";
import { type Db, getDb } from "../../db/client";
import { type Actor, userActor } from "../actor";
import { boundPayeeId } from "../auth/payee-binding";
import { sessionAccessToken } from "../auth/session";
import { type AuthUser, type UserRole, verifyAccessToken } from "../auth/user";
import { getEnv } from "../env";
import { ApiError } from "./errors";
import { type RequestContext, type RouteContext, type RouteParams, readRawBody, toErrorResponse } from "./handler";
import { errorResponse } from "./respond";

export type UserContext<P> = RequestContext<P> & { user: AuthUser; actor: Actor };

/** The payee a caller is confined to: its own for `payee`, none (everything) for staff. */
export function payeeScope(user: AuthUser): string | undefined {
  return user.role === "payee" ? (user.payeeId ?? "00000000-0000-0000-0000-000000000000") : undefined;
}

/**
 * Every /api/v1/* route: a verified Supabase access token whose role is in `roles`; 401 JSON without
 * a valid token, 403 for a role not allowed here. A `payee` user is bound to its payee (from the
 * token's app_metadata.payee_id, else payees.user_id = sub); one with no payee is refused.
 * `pageSession`: a GET without an Authorization header may use the signed-in page's session cookie
 * instead (the ops page's download forms); the same token check and roles apply. Only for reads:
 * a cookie rides along on a link from another site (SameSite=Lax), so it must never change anything.
 */
export function withUser<P extends RouteParams = Record<string, never>>(
  options: { roles: readonly UserRole[]; pageSession?: boolean },
  handler: (ctx: UserContext<P>) => Promise<Response>,
) {
  return async (req: NextRequest, route: RouteContext<P>): Promise<Response> => {
    const where = `${req.method} ${new URL(req.url).pathname}`;
    try {
      const env = getEnv();
      const header = req.headers.get("authorization") ?? "";
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      const token =
        match?.[1] ??
        (options.pageSession && req.method === "GET" && header === ""
          ? await sessionAccessToken(env, req.cookies)
          : null);
      if (!token)
        return errorResponse(
          new ApiError(
            "unauthorized",
            options.pageSession
              ? "send Authorization: Bearer <access token>, or sign in"
              : "send Authorization: Bearer <access token>",
          ),
        );
      const verified = await verifyAccessToken(token, env);
      if (!verified) return errorResponse(new ApiError("unauthorized", "access token is invalid or expired"));
      if (!options.roles.includes(verified.role)) {
        return errorResponse(new ApiError("forbidden", `role ${verified.role} may not do this`));
      }
      const db = await getDb();
      const user = verified.role === "payee" ? await bindPayee(db, verified) : verified;
      const rawBody = await readRawBody(req);
      return await handler({
        req,
        url: new URL(req.url),
        rawBody,
        params: await route.params,
        db,
        env,
        user,
        actor: userActor(user),
      });
    } catch (error) {
      return toErrorResponse(error, where);
    }
  };
}

async function bindPayee(db: Db, user: AuthUser): Promise<AuthUser> {
  if (user.payeeId) return user;
  const payeeId = await boundPayeeId(db, user);
  if (!payeeId) throw new ApiError("forbidden", "this account is not linked to a payee");
  return { ...user, payeeId };
}
