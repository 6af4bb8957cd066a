import Link from "next/link";
import type { SessionUser } from "@/lib/auth/session";
import { signOutAction } from "./sign-out-action";

const ROLE_LABEL: Record<string, string> = { payee: "Payee", platform_admin: "Platform admin", finance: "Finance (read-only)" };

/** Top navigation for signed-in pages: where you are, who you are, sign out. */
export function SiteHeader({ user, links }: { user: SessionUser; links: { href: string; label: string }[] }) {
  return (
    <header>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <nav className="top" aria-label="Main">
        <Link className="brand" href="/">
          Payrun
        </Link>
        {links.map((l) => (
          <Link key={l.href} href={l.href}>
            {l.label}
          </Link>
        ))}
        <span className="who muted" data-testid="signed-in-as">
          {user.email ?? user.id} · {ROLE_LABEL[user.role] ?? user.role}
        </span>
        <form action={signOutAction}>
          <button type="submit" className="secondary small">
            Sign out
          </button>
        </form>
      </nav>
    </header>
  );
}
