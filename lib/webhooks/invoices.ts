import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import type { PlacementInvoiceStatus } from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";

// Later states win a tie: Stripe's `created` has one-second resolution, and an invoice is often
// finalized and paid within the same second.
const statusRank: Record<PlacementInvoiceStatus, number> = {
  creating: 0,
  draft: 1,
  open: 2,
  payment_failed: 3,
  paid: 4,
  uncollectible: 4,
  void: 5,
};

export type InvoiceEventResult = { outcome: "unknown_invoice" | "stale" | "updated"; placementInvoiceId?: string };

/**
 * A placement invoice's state from an invoice.* event (found by its Stripe id), unless newer state is
 * already stored. The sweeps use the status to decide whether a placement share is collectible.
 */
export async function applyInvoiceState(
  db: Db,
  input: { stripeInvoiceId: string; status: PlacementInvoiceStatus; occurredAt: Date; hostedInvoiceUrl?: string | null },
  options: { actor: Actor },
): Promise<InvoiceEventResult> {
  const [before] = await queryRows<{
    id: string;
    status: PlacementInvoiceStatus;
    stripe_state_at: string | Date | null;
    finalized_at: string | Date | null;
    paid_at: string | Date | null;
    voided_at: string | Date | null;
  }>(
    db,
    sql`select id, status, stripe_state_at, finalized_at, paid_at, voided_at from placement_invoices
        where stripe_invoice_id = ${input.stripeInvoiceId} for update`,
  );
  if (!before) return { outcome: "unknown_invoice" };
  const storedAt = before.stripe_state_at ? new Date(before.stripe_state_at).getTime() : null;
  const at = input.occurredAt.getTime();
  const newer = storedAt === null || at > storedAt || (at === storedAt && statusRank[input.status] >= statusRank[before.status]);
  if (!newer) return { outcome: "stale", placementInvoiceId: before.id };

  const occurred = input.occurredAt.toISOString();
  await db.execute(sql`
    update placement_invoices set
      status = ${input.status},
      finalized_at = ${input.status === "open" ? sql`coalesce(finalized_at, ${occurred}::timestamptz)` : sql`finalized_at`},
      paid_at = ${input.status === "paid" ? sql`coalesce(paid_at, ${occurred}::timestamptz)` : sql`paid_at`},
      voided_at = ${input.status === "void" ? sql`coalesce(voided_at, ${occurred}::timestamptz)` : sql`voided_at`},
      hosted_invoice_url = coalesce(${input.hostedInvoiceUrl ?? null}, hosted_invoice_url),
      stripe_state_at = ${occurred}::timestamptz,
      updated_at = now()
    where id = ${before.id}`);
  await recordAudit(db, {
    actor: options.actor,
    action: "placement_invoice.status_changed",
    entityType: "placement_invoice",
    entityId: before.id,
    before: { status: before.status },
    after: { status: input.status, stripeInvoiceId: input.stripeInvoiceId, at: occurred },
  });
  return { outcome: "updated", placementInvoiceId: before.id };
}
