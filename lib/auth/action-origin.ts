// Server actions are POSTs to a page. Next compares their Origin with the host itself, but parses it
// with `new URL(origin)` first: an Origin that is not a URL (`127.0.0.1:3802.evil.example`) throws
// "Invalid URL" inside Next, and a foreign one is refused with a 500 and an error in the log. The
// proxy asks this first and answers 403 itself, so neither reaches Next.

/** Paths served by route handlers, where POST is an API call, never a server action. */
const ROUTE_HANDLER_PREFIXES = ["/api/", "/internal/", "/webhooks/", "/_next/"];

/** The host Next checks Origin against: the first X-Forwarded-Host, else Host. */
function expectedHost(headers: Headers): string | null {
  const forwarded = headers.get("x-forwarded-host")?.split(",")[0]?.trim();
  return forwarded || headers.get("host");
}

/**
 * Why a possible server action must be refused (403), or null to let Next handle it: an Origin
 * that is "null", not a URL, or another host. A request without Origin is left to Next (it allows
 * it: such a request carries no credentials a browser would add cross-site).
 */
export function foreignActionOrigin(method: string, pathname: string, headers: Headers): string | null {
  if (method !== "POST" || ROUTE_HANDLER_PREFIXES.some((p) => pathname.startsWith(p))) return null;
  const origin = headers.get("origin");
  if (origin === null) return null;
  if (origin === "null") return "Origin null";
  if (!URL.canParse(origin)) return "Origin is not a URL";
  const host = expectedHost(headers);
  if (!host || new URL(origin).host !== host) return "Origin is another site";
  return null;
}
