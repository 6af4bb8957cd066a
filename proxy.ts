// Before pages render: (1) a server action whose Origin is not this site, or not a URL at all, is
// refused with a 403 here instead of failing inside Next with a 500 (lib/auth/action-origin.ts);
// (2) a signed-in user's Supabase session is refreshed: server components can read cookies but not
// write them, so without this an expired access token would sign people out. On the embedded
// default (Supabase unset) there is no Supabase session and (2) does nothing.
import { createServerClient } from "@supabase/ssr";
import { type NextRequest, NextResponse } from "next/server";
import WebSocket from "ws";
import { foreignActionOrigin } from "./lib/auth/action-origin";

const SESSION_PATHS = ["/dashboard", "/ops", "/sign-in"];

export async function proxy(request: NextRequest) {
  const refused = foreignActionOrigin(request.method, request.nextUrl.pathname, request.headers);
  if (refused) {
    return NextResponse.json(
      { error: { code: "forbidden", message: `server action refused: ${refused}` } },
      { status: 403, headers: { "cache-control": "no-store" } },
    );
  }
  const path = request.nextUrl.pathname;
  if (!SESSION_PATHS.some((p) => path === p || path.startsWith(`${p}/`))) return NextResponse.next();

  const supabaseUrl = process.env.SUPABASE_URL;
  const anonKey = process.env.SUPABASE_ANON_KEY;
  if (!supabaseUrl || !anonKey) return NextResponse.next();

  let response = NextResponse.next({ request });
  const supabase = createServerClient(supabaseUrl, anonKey, {
    cookies: {
      getAll: () => request.cookies.getAll(),
      setAll: (list) => {
        for (const c of list) request.cookies.set(c.name, c.value);
        response = NextResponse.next({ request });
        for (const c of list) response.cookies.set(c.name, c.value, c.options);
      },
    },
    // Node 20 has no global WebSocket; supabase-js wants one for realtime even if unused.
    realtime: { transport: WebSocket as never },
  });
  // Uses the refresh token when the access token has expired, writing the new cookies above.
  await supabase.auth.getUser();
  return response;
}

// Every page (server actions post to the page they are on); not static files or route handlers.
export const config = { matcher: ["/((?!_next/static|_next/image|favicon.ico|api/|internal/|webhooks/).*)"] };
