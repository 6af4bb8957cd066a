"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

/**
 * While `active`, re-renders the server component page every `intervalMs` (router.refresh keeps
 * client state and scroll). Pages pass active=false once nothing is moving, which stops the polling.
 */
export function LiveRefresh({ active, intervalMs = 1500 }: { active: boolean; intervalMs?: number }) {
  const router = useRouter();
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => router.refresh(), intervalMs);
    return () => clearInterval(timer);
  }, [active, intervalMs, router]);
  return null;
}
