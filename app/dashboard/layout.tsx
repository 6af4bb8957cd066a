import type { ReactNode } from "react";
import { SiteHeader } from "@/app/_components/site-header";
import { requirePageUser } from "@/lib/auth/session";

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const user = await requirePageUser(["payee"], "/dashboard");
  return (
    <>
      <SiteHeader user={user} links={[{ href: "/dashboard", label: "My payouts" }]} />
      {children}
    </>
  );
}
