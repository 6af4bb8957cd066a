import { formatCents } from "@/lib/dashboard/format";

/** Integer cents shown in their currency; negative amounts in red. */
export function Money({ cents, currency }: { cents: number; currency: string }) {
  return <span className={cents < 0 ? "amount negative" : "amount"}>{formatCents(cents, currency)}</span>;
}
