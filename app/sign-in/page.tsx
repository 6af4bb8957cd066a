import type { Metadata } from "next";
import { Flash } from "@/app/_components/states";
import { SubmitButton } from "@/app/_components/submit-button";
import { getSessionUser, homeFor, localSignInAllowed } from "@/lib/auth/session";
import { DEMO_USERS } from "@/lib/demo/users";
import { getEnv } from "@/lib/env";
import { redirect } from "next/navigation";
import { safeNextPath } from "@/lib/auth/next-path";
import { signInDemoAction, signInPasswordAction } from "./actions";

export const metadata: Metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

const ROLE_LABEL = { payee: "Payee", platform_admin: "Platform admin", finance: "Finance" } as const;

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const { next, error } = await searchParams;
  const user = await getSessionUser();
  if (user && !error) redirect(safeNextPath(next) ?? homeFor(user.role));
  const env = getEnv();

  return (
    <main id="main" className="narrow">
      <h1>Sign in to Payrun</h1>
      <Flash error={error} />
      {env.authMode === "supabase" ? (
        <form action={signInPasswordAction} className="stack">
          <input type="hidden" name="next" value={next ?? ""} />
          <label>
            Email
            <input type="email" name="email" autoComplete="email" required />
          </label>
          <label>
            Password
            <input type="password" name="password" autoComplete="current-password" required />
          </label>
          <SubmitButton pendingText="Signing in…">Sign in</SubmitButton>
        </form>
      ) : localSignInAllowed(env) ? (
        <>
          <p className="notice">
            Supabase is not configured, so this is the <strong>local demo sign-in</strong>: pick a user. It runs
            only on the embedded default (Stripe simulator, no QStash, a local database), never in production.
          </p>
          <ul className="demo-users">
            {DEMO_USERS.map((u) => (
              <li key={u.id} className="card">
                <form action={signInDemoAction}>
                  <input type="hidden" name="userId" value={u.id} />
                  <input type="hidden" name="next" value={next ?? ""} />
                  <p>
                    <strong>{u.name}</strong> <span className="badge">{ROLE_LABEL[u.role]}</span>
                  </p>
                  <p className="muted small">{u.blurb}</p>
                  <SubmitButton pendingText="Signing in…">Sign in as {u.name}</SubmitButton>
                </form>
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p className="error" role="alert">
          Sign-in is not configured: set SUPABASE_URL and SUPABASE_ANON_KEY.
        </p>
      )}
    </main>
  );
}
