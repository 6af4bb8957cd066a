import { and, eq, inArray, sql } from "drizzle-orm";
import type Stripe from "stripe";
import { type Db, queryRows } from "../../db/client";
import { type PlacementInvoice, placementInvoices, placements } from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import type { StripeGateway } from "../stripe/gateway";
import { workEach } from "../sweeps/run";
import type { SweepContext, SweepDefinition, SweepStep } from "../sweeps/types";
import { deferInvoiceAfterFailure, INVOICE_LEASE_MS, invoiceKeys, invoiceStatusFromStripe } from "./invoice-state";
import { abandonInvoices, placementEnded, VOIDABLE_AT_STRIPE, voidAtStripe } from "./void-invoices";

/**
 * finalize-placement-invoices: finalize and send each draft. The row moves on only from `draft`, so
 * whatever an invoice.* webhook wrote first (open, paid, void) is kept: webhooks own the state after.
 * It also voids the invoices of cancelled placements (see void-invoices.ts for why here and not in
 * the cancel request).
 */
export function finalizePlacementInvoicesSweep(gateway: StripeGateway): SweepDefinition {
  return {
    name: "finalize-placement-invoices",
    async step(db, ctx) {
      const { toFinalize, toAbandon, toVoid } = await claimInvoicesToFinalize(db, ctx);
      const step: SweepStep = {
        claimed: toFinalize.length + toAbandon.length + toVoid.length,
        processed: 0,
        skipped: toAbandon.length,
        failed: 0,
      };
      await workEach(step, toFinalize, (row) => finalizeAndSend(db, gateway, row, ctx.actor, ctx.now));
      await workEach(step, toVoid, (row) => voidAtStripe(db, gateway, row, ctx.actor, ctx.now));
      return step;
    },
    async remaining(db, ctx) {
      const [row] = await queryRows<{ n: string | number }>(
        db,
        sql`select count(*) as n from placement_invoices
            where ${workDue(ctx.now)}`,
      );
      return Number(row?.n ?? 0);
    },
  };
}

/**
 * Drafts to finalize, and sent invoices of cancelled placements to void (void-invoices.ts). Drafts
 * whose placement ended are voided locally, never finalized, in the claim's own transaction.
 */
const workDue = (now: Date) =>
  sql`stripe_invoice_id is not null
      and (status = 'draft' or (void_requested_at is not null and status in (${sql.join(
        VOIDABLE_AT_STRIPE.map((status) => sql`${status}`),
        sql`, `,
      )})))
      and (lease_expires_at is null or lease_expires_at < ${now.toISOString()}::timestamptz)`;

async function claimInvoicesToFinalize(db: Db, ctx: SweepContext) {
  return db.transaction(async (tx) => {
    const claimed = await tx
      .update(placementInvoices)
      .set({ leaseExpiresAt: new Date(ctx.now.getTime() + INVOICE_LEASE_MS), updatedAt: ctx.now })
      .where(
        sql`${placementInvoices.id} in (
          select id from placement_invoices where ${workDue(ctx.now)}
          order by created_at limit ${ctx.batchSize} for update skip locked)`,
      )
      .returning();
    const statuses =
      claimed.length === 0
        ? []
        : await tx
            .select({ id: placements.id, status: placements.status })
            .from(placements)
            .where(
              inArray(
                placements.id,
                claimed.map((r) => r.placementId),
              ),
            );
    const ended = new Set(statuses.filter((p) => placementEnded(p.status)).map((p) => p.id));
    const drafts = claimed.filter((r) => r.status === "draft");
    const toAbandon = drafts.filter((r) => ended.has(r.placementId) || r.voidRequestedAt);
    await abandonInvoices(tx, toAbandon, ["draft"], ctx.actor, ctx.now);
    return {
      toFinalize: drafts.filter((r) => !toAbandon.includes(r)),
      toAbandon,
      toVoid: claimed.filter((r) => r.status !== "draft"),
    };
  });
}

async function finalizeAndSend(
  db: Db,
  gateway: StripeGateway,
  row: PlacementInvoice,
  actor: Actor,
  now: Date,
): Promise<boolean> {
  const keys = invoiceKeys(row.idempotencyKey);
  const stripeInvoiceId = row.stripeInvoiceId!;
  try {
    let invoice: Stripe.Invoice;
    try {
      invoice = await gateway.finalizeInvoice(stripeInvoiceId, keys.finalize);
    } catch (error) {
      // Finalized already (an earlier try whose answer was lost, or by hand in the dashboard)?
      invoice = await gateway.retrieveInvoice(stripeInvoiceId);
      if (invoice.status === "draft") throw error;
    }
    if (invoice.status === "open") invoice = await gateway.sendInvoice(stripeInvoiceId, keys.send);
    const finalizedAt = invoice.status_transitions?.finalized_at;
    await db.transaction(async (tx) => {
      const [after] = await tx
        .update(placementInvoices)
        .set({
          status: invoiceStatusFromStripe(invoice.status),
          finalizedAt: finalizedAt ? new Date(finalizedAt * 1000) : now,
          hostedInvoiceUrl: invoice.hosted_invoice_url ?? null,
          leaseExpiresAt: null,
          lastError: null,
          updatedAt: new Date(),
        })
        .where(and(eq(placementInvoices.id, row.id), eq(placementInvoices.status, "draft")))
        .returning();
      if (after) {
        await recordAudit(tx, {
          actor,
          action: "placement_invoice.finalized",
          entityType: "placement_invoice",
          entityId: row.id,
          before: { status: "draft" },
          after,
          reason: "finalized and sent to the client",
        });
      }
    });
    return true;
  } catch (error) {
    await deferInvoiceAfterFailure(db, row.id, error, now);
    return false;
  }
}
