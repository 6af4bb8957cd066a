import { createHash } from "node:crypto";
import { createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, jwtVerify, SignJWT } from "jose";
import { type Env, getEnv } from "../env";
import { isUuid } from "../schemas/common";

// Who is calling /api/v1/*: a Supabase access token (`Authorization: Bearer <jwt>`) verified here,
// locally, never by trusting a header or calling Supabase per request.
//   HS256        -> SUPABASE_JWT_SECRET (Supabase's legacy shared secret)
//   RS256/ES256  -> the project's JWKS at ${SUPABASE_URL}/auth/v1/.well-known/jwks.json (cached)
// On the embedded default (authMode "local", never in production) the local sign-in page issues HS256
// tokens of the same shape with SUPABASE_JWT_SECRET if set, else LOCAL_DEV_JWT_SECRET below.

export const userRoles = ["platform_admin", "finance", "payee"] as const;
export type UserRole = (typeof userRoles)[number];

export type AuthUser = {
  /** Supabase auth user id (`sub`). */
  id: string;
  role: UserRole;
  /** The payee a `payee` user may see; from app_metadata.payee_id or payees.user_id (resolved later). */
  payeeId: string | null;
  email: string | null;
};

/**
 * Local development only: a fixed secret, the same on every start, so a token from the local
 * sign-in page survives a restart. It is public by construction (anyone reading this file can sign
 * with it), which is why it is accepted only when env.authMode is "local": the whole app on the embedded
 * default (Stripe on the simulator's key, Supabase and QStash unset, a local database) and never in
 * production (lib/env.ts embeddedDefault).
 */
export const LOCAL_DEV_JWT_SECRET = createHash("sha256").update("payrun local dev auth v1").digest("hex");
export const LOCAL_ISSUER = "payrun-local";
const AUDIENCE = "authenticated";

type AuthEnv = Pick<Env, "SUPABASE_JWT_SECRET" | "SUPABASE_URL" | "authMode" | "strict">;

/** The HS256 key and the issuer its tokens must carry (pinned, so a token from elsewhere fails). */
function hsKey(env: AuthEnv): { secret: Uint8Array; issuer?: string } | null {
  if (env.SUPABASE_JWT_SECRET) {
    return {
      secret: new TextEncoder().encode(env.SUPABASE_JWT_SECRET),
      issuer: env.SUPABASE_URL ? supabaseIssuer(env.SUPABASE_URL) : undefined,
    };
  }
  // env.authMode is "local" only on the embedded default (lib/env.ts): never production, never real Stripe.
  if (env.authMode === "local" && !env.strict) {
    return { secret: new TextEncoder().encode(LOCAL_DEV_JWT_SECRET), issuer: LOCAL_ISSUER };
  }
  return null;
}

const supabaseIssuer = (supabaseUrl: string) => new URL("/auth/v1", supabaseUrl).toString();

const jwksByUrl = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
function projectJwks(supabaseUrl: string) {
  const url = new URL("/auth/v1/.well-known/jwks.json", supabaseUrl).toString();
  let jwks = jwksByUrl.get(url);
  if (!jwks) {
    // jose caches the key set and refetches on an unknown kid (after a cooldown), so a key rotation
    // costs one fetch, not one per request.
    jwks = createRemoteJWKSet(new URL(url), { timeoutDuration: 3000, cacheMaxAge: 10 * 60_000 });
    jwksByUrl.set(url, jwks);
  }
  return jwks;
}

/** The verified user behind a bearer token, or null for anything invalid, expired or unsigned. */
export async function verifyAccessToken(token: string, env: AuthEnv): Promise<AuthUser | null> {
  let payload: JWTPayload;
  try {
    const { alg } = decodeProtectedHeader(token);
    const common = { audience: AUDIENCE, requiredClaims: ["sub", "exp"], clockTolerance: 5 };
    if (alg === "HS256") {
      const key = hsKey(env);
      if (!key) return null;
      ({ payload } = await jwtVerify(token, key.secret, { ...common, issuer: key.issuer, algorithms: ["HS256"] }));
    } else if ((alg === "RS256" || alg === "ES256") && env.SUPABASE_URL) {
      ({ payload } = await jwtVerify(token, projectJwks(env.SUPABASE_URL), {
        ...common,
        issuer: supabaseIssuer(env.SUPABASE_URL),
        algorithms: ["RS256", "ES256"],
      }));
    } else {
      return null;
    }
  } catch {
    return null;
  }
  return userFromClaims(payload);
}

function userFromClaims(payload: JWTPayload): AuthUser | null {
  const appMetadata = (payload.app_metadata ?? {}) as Record<string, unknown>;
  const role = appMetadata.role;
  if (typeof payload.sub !== "string" || !userRoles.includes(role as UserRole)) return null;
  // A payee id that is not a UUID is treated as absent (it could never match a row).
  const payeeId =
    typeof appMetadata.payee_id === "string" && isUuid(appMetadata.payee_id) ? appMetadata.payee_id : null;
  const email = typeof payload.email === "string" ? payload.email : null;
  return { id: payload.sub, role: role as UserRole, payeeId, email };
}

export type LocalTokenInput = {
  userId: string;
  role: UserRole;
  payeeId?: string | null;
  email?: string | null;
};

/**
 * A Supabase-shaped HS256 access token for the embedded default (the local sign-in page and tests).
 * Throws when strict (deployed production) so no stand-in can mint tokens there.
 */
export async function issueLocalToken(
  input: LocalTokenInput,
  env: AuthEnv = getEnv(),
  options: { expiresInSeconds?: number } = {},
): Promise<string> {
  if (env.strict) throw new Error("issueLocalToken is refused in production (env.strict)");
  const key = hsKey(env);
  if (!key) throw new Error("no local signing secret: local sign-in needs the embedded default (Stripe simulator, Supabase unset)");
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    aud: AUDIENCE,
    role: "authenticated",
    email: input.email ?? undefined,
    app_metadata: {
      provider: "local",
      role: input.role,
      ...(input.payeeId ? { payee_id: input.payeeId } : {}),
    },
    user_metadata: {},
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(input.userId)
    .setIssuer(key.issuer ?? LOCAL_ISSUER)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresInSeconds ?? 3600))
    .sign(key.secret);
}
