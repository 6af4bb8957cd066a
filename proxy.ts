// Refreshes a signed-in user's Supabase session before pages render: server components can read
// cookies but not write them, so without this an expired access token would sign people out.
// On the embedded default (Supabase unset) there is no Supabase session and this does nothing.
import { createServerClient } from "@supabase/ssr";
import { type NextRequest, NextResponse } from "next/server";
import WebSocket from "ws";

export async function proxy(request: NextRequest) {
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

export const config = { matcher: ["/dashboard/:path*", "/ops/:path*", "/sign-in"] };
