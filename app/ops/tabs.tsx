"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

const TABS = [
  { href: "/ops", label: "Overview" },
  { href: "/ops/runs", label: "Runs" },
  { href: "/ops/approvals", label: "Approvals" },
  { href: "/ops/events", label: "Webhook events" },
  { href: "/ops/holds", label: "Escrow holds" },
  { href: "/ops/bank-accounts", label: "Shared banks" },
  { href: "/ops/reconciliation", label: "Reconciliation" },
  { href: "/ops/billing", label: "Billing" },
  { href: "/ops/schedules", label: "Payout schedules" },
  { href: "/ops/billing/clients", label: "Clients & usage" },
  { href: "/ops/audit", label: "Audit log" },
];

export function OpsTabs() {
  const pathname = usePathname();
  return (
    <nav className="tabs" aria-label="Ops console">
      {TABS.map((t) => {
        const current = t.href === "/ops" ? pathname === "/ops" : pathname.startsWith(t.href);
        return (
          <Link key={t.href} href={t.href} aria-current={current ? "page" : undefined}>
            {t.label}
          </Link>
        );
      })}
    </nav>
  );
}
