import { createServerClient } from "@supabase/ssr";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { cache } from "react";
import { WebSocket } from "ws";
import { getDb } from "../../db/client";
import { type Actor, userActor } from "../actor";
import { findDemoUser } from "../demo/users";
import { type Env, getEnv } from "../env";
import { DomainError } from "../errors";
import { boundPayeeId } from "./payee-binding";
import { type AuthUser, issueLocalToken, type UserRole, verifyAccessToken } from "./user";

// The page and server-action side of sign-in. Both modes end in the same check: an access token
// verified locally by verifyAccessToken (lib/auth/user.ts), the same function the API uses.
//   supabase  @supabase/ssr keeps the session in its own cookies; we read the access token from it.
//   local     the local sign-in page puts a token from issueLocalToken in LOCAL_SESSION_COOKIE.
// Local sign-in only when env.authMode is "local": the whole app on the embedded default, never in
// production (lib/env.ts). With authMode "none" nobody is signed in.

export const LOCAL_SESSION_COOKIE = "payrun_session";
const LOCAL_SESSION_SECONDS = 8 * 3600;

export type SessionUser = AuthUser & { actor: Actor };

export function localSignInAllowed(env: Env = getEnv()): boolean {
  return env.authMode === "local" && !env.strict;
}

type CookieStore = Awaited<ReturnType<typeof cookies>>;

/** A per-request Supabase client over Next's cookie store (@supabase/ssr writes refreshed tokens back). */
function supabaseClient(env: Env, store: CookieStore) {
  return createServerClient(env.SUPABASE_URL!, env.SUPABASE_ANON_KEY!, {
    cookies: {
      getAll: () => store.getAll(),
      setAll: (list) => {
        // Server components cannot set cookies (only actions and routes can): reading still works.
        try {
          for (const c of list) store.set(c.name, c.value, c.options);
        } catch {}
      },
    },
    // Node 20 has no global WebSocket; supabase-js wants one for realtime even if unused.
    realtime: { transport: WebSocket as never },
  });
}

async function supabaseAccessToken(env: Env): Promise<string | null> {
  const supabase = supabaseClient(env, await cookies());
  // getSession only reads the cookie; the token is then verified locally (signature, expiry, role).
  const { data } = await supabase.auth.getSession();
  return data.session?.access_token ?? null;
}

type CookieList = { getAll(): { name: string; value: string }[] };

/**
 * The access token a signed-in page's cookies carry (Supabase's session, or the local sign-in's),
 * unverified, or null: the caller verifies it. For a download an /api/v1 route serves to its page
 * (a form's GET carries cookies, not a bearer token). Reads only: it never writes a refreshed token.
 */
export async function sessionAccessToken(env: Env, store: CookieList): Promise<string | null> {
  if (env.authMode === "supabase") {
    const supabase = createServerClient(env.SUPABASE_URL!, env.SUPABASE_ANON_KEY!, {
      cookies: { getAll: () => store.getAll(), setAll: () => {} },
      realtime: { transport: WebSocket as never },
    });
    // getSession only reads the cookie; the token is then verified locally (signature, expiry, role).
    const { data } = await supabase.auth.getSession();
    return data.session?.access_token ?? null;
  }
  if (!localSignInAllowed(env)) return null;
  return store.getAll().find((c) => c.name === LOCAL_SESSION_COOKIE)?.value ?? null;
}

/**
 * The signed-in user, verified, or null. A payee is bound to its payees row. Cached per request
 * (React `cache`): a layout and its page both ask, and the token is verified once.
 */
export const getSessionUser = cache(async (): Promise<SessionUser | null> => {
  const env = getEnv();
  let token: string | null;
  if (env.authMode === "supabase") {
    token = await supabaseAccessToken(env);
  } else {
    if (!localSignInAllowed(env)) return null;
    token = (await cookies()).get(LOCAL_SESSION_COOKIE)?.value ?? null;
  }
  if (!token) return null;
  const verified = await verifyAccessToken(token, env);
  if (!verified) return null;
  const user =
    verified.role === "payee" && !verified.payeeId
      ? { ...verified, payeeId: await boundPayeeId(await getDb(), verified) }
      : verified;
  return { ...user, actor: userActor(user) };
});

/** Where a signed-in user lands by default. */
export function homeFor(role: UserRole): string {
  return role === "payee" ? "/dashboard" : "/ops";
}

/**
 * For pages: the user if their role is allowed, else a redirect (to sign-in when signed out, to their
 * own home when signed in with another role).
 */
export async function requirePageUser(roles: readonly UserRole[], from: string): Promise<SessionUser> {
  const user = await getSessionUser();
  if (!user) redirect(`/sign-in?next=${encodeURIComponent(from)}`);
  if (!roles.includes(user.role)) redirect(homeFor(user.role));
  return user;
}

/** Local sign-in as one of the demo users (lib/demo/users.ts). Refused in production. */
export async function signInAsDemoUser(userId: string): Promise<SessionUser> {
  const env = getEnv();
  if (!localSignInAllowed(env)) {
    throw new DomainError("precondition_failed", "local sign-in runs only on the embedded default, never in production");
  }
  const demo = findDemoUser(userId);
  if (!demo) throw new DomainError("not_found", "unknown demo user");
  const token = await issueLocalToken(
    { userId: demo.id, role: demo.role as UserRole, payeeId: demo.payeeId, email: demo.email },
    env,
    { expiresInSeconds: LOCAL_SESSION_SECONDS },
  );
  (await cookies()).set(LOCAL_SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "lax",
    secure: env.APP_BASE_URL.startsWith("https:"),
    path: "/",
    maxAge: LOCAL_SESSION_SECONDS,
  });
  const user: AuthUser = { id: demo.id, role: demo.role as UserRole, payeeId: demo.payeeId, email: demo.email };
  return { ...user, actor: userActor(user) };
}

export async function signOut(): Promise<void> {
  const env = getEnv();
  const store = await cookies();
  store.delete(LOCAL_SESSION_COOKIE);
  if (env.authMode === "supabase") {
    await supabaseClient(env, store).auth.signOut();
  }
}

/** Supabase email + password sign-in; @supabase/ssr writes the session cookies. */
export async function signInWithPassword(email: string, password: string): Promise<SessionUser> {
  const env = getEnv();
  if (env.authMode !== "supabase") throw new DomainError("precondition_failed", "Supabase is not configured");
  const store = await cookies();
  const supabase = supabaseClient(env, store);
  const { data, error } = await supabase.auth.signInWithPassword({ email, password });
  if (error || !data.session) throw new DomainError("unauthenticated", "Email or password is wrong.");
  const verified = await verifyAccessToken(data.session.access_token, env);
  if (!verified) throw new DomainError("forbidden", "This account has no Payrun role yet; ask an admin to grant one.");
  return { ...verified, actor: userActor(verified) };
}
