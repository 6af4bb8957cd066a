import type { ReactNode } from "react";
import { SiteHeader } from "@/app/_components/site-header";
import { requirePageUser } from "@/lib/auth/session";
import { OpsTabs } from "./tabs";

export default async function OpsLayout({ children }: { children: ReactNode }) {
  const user = await requirePageUser(["platform_admin", "finance"], "/ops");
  return (
    <>
      <SiteHeader user={user} links={[{ href: "/ops", label: "Ops console" }]} />
      <main id="main">
        <OpsTabs />
        {user.role === "finance" ? (
          <p className="muted small" data-testid="read-only-note">
            Finance view: read-only, except approving large payouts. Actions (runs, retries, pause, replays,
            holds) need a platform admin.
          </p>
        ) : null}
        {children}
      </main>
    </>
  );
}
