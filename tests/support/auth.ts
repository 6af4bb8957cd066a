import { randomUUID } from "node:crypto";
import { NextRequest } from "next/server";
import { issueLocalToken, type UserRole } from "../../lib/auth/user";
import { loadEnv } from "../../lib/env";

// Access tokens for API tests: the same HS256 Supabase-shaped tokens the local sign-in page issues,
// signed with the local secret (tests run with Supabase unset, never strict).

export async function tokenFor(
  role: UserRole,
  options: { userId?: string; payeeId?: string | null; email?: string; expiresInSeconds?: number } = {},
): Promise<string> {
  const env = loadEnv();
  return issueLocalToken(
    {
      userId: options.userId ?? randomUUID(),
      role,
      payeeId: options.payeeId ?? null,
      email: options.email ?? null,
    },
    env,
    { expiresInSeconds: options.expiresInSeconds },
  );
}

/** A request to an /api/v1 route handler, with a bearer token when given. */
export function apiRequest(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { "content-type": "application/json", ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body);
  return new NextRequest(`http://127.0.0.1:9${path}`, { method, headers, body });
}

/** Route context for a dynamic segment: `{ params: Promise<{ id }> }`. */
export const routeParams = <P extends Record<string, string>>(params: P) => ({
  params: Promise.resolve(params),
});
