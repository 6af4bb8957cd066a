import { describe, expect, it } from "vitest";
import { LOCAL_SESSION_COOKIE } from "../../lib/auth/session";
import { issueLocalToken, type UserRole } from "../../lib/auth/user";
import { DEMO_USERS } from "../../lib/demo/users";
import { loadEnv } from "../../lib/env";
import { baseUrl } from "./support/browser";

// Server actions posted as a browser would post them without JavaScript (multipart, $ACTION_ID_),
// against `next start`. Issue 11: a refused action answered 500 with a stack in the log (item 6), and
// an Origin that is not a URL failed inside Next with "Invalid URL" (item 8).

async function sessionCookie(role: UserRole): Promise<string> {
  const user = DEMO_USERS.find((u) => u.role === role)!;
  const token = await issueLocalToken(
    { userId: user.id, role, payeeId: user.payeeId, email: user.email },
    loadEnv({}),
  );
  return `${LOCAL_SESSION_COOKIE}=${token}`;
}

/** The action id of the pause form on /ops, as an admin's page renders it. */
async function pauseActionId(): Promise<string> {
  const html = await (
    await fetch(`${baseUrl()}/ops`, { headers: { cookie: await sessionCookie("platform_admin") } })
  ).text();
  const form = [...html.matchAll(/<form[\s\S]*?<\/form>/g)]
    .map((m) => m[0])
    .find((f) => f.includes('name="paused"'));
  const id = form ? /name="\$ACTION_ID_([^"]+)"/.exec(form)?.[1] : undefined;
  if (!id) throw new Error("no pause form with an action id on /ops");
  return id;
}

async function postPause(headers: Record<string, string>) {
  const form = new FormData();
  form.set(`$ACTION_ID_${await pauseActionId()}`, "");
  form.set("paused", "true");
  form.set("reason", "posted from a test");
  return fetch(`${baseUrl()}/ops`, { method: "POST", body: form, headers, redirect: "manual" });
}

describe("refused server actions", () => {
  it("signed out: a redirect to sign-in, not a 500", async () => {
    const res = await postPause({ origin: baseUrl() });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toContain("/sign-in?next=%2Fops");
  });

  it("finance posting an admin's action: back to the page with a 403-style message, not a 500", async () => {
    const res = await postPause({ origin: baseUrl(), cookie: await sessionCookie("finance") });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get("location")!, baseUrl());
    expect(location.pathname).toBe("/ops");
    expect(location.searchParams.get("error")).toBe("Your role (finance) may not do this.");
  });

  it("an Origin that is not a URL, or another site: 403 before Next parses it", async () => {
    const cookie = await sessionCookie("platform_admin");
    for (const origin of ["127.0.0.1:3802.evil.example", "https://evil.example", "null"]) {
      const res = await postPause({ origin, cookie });
      expect(res.status, origin).toBe(403);
      expect((await res.json()).error.code).toBe("forbidden");
    }
  });
});
