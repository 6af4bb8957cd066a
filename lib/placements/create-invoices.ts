import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { type PlacementInvoice, placementInvoices, placements } from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit, recordAudits } from "../audit";
import type { StripeGateway } from "../stripe/gateway";
import type { SweepDefinition, SweepStep } from "../sweeps/types";
import {
  errorMessage,
  INVOICE_DAYS_UNTIL_DUE,
  INVOICE_LEASE_MS,
  INVOICE_RETRY_DELAY_MS,
  invoiceKeys,
} from "./invoice-state";

/**
 * create-placement-invoices: one Stripe invoice (draft, one invoice item, send_invoice) per placement
 * whose guarantee completed. The placement_invoices row, with its idempotency key derived from its
 * own id, is committed BEFORE any Stripe call; the unique placement_id means a retried or concurrent
 * sweep can never make a second row, and the stored key means a retried Stripe call returns the
 * same invoice instead of making another.
 */
export function createPlacementInvoicesSweep(gateway: StripeGateway): SweepDefinition {
  return {
    name: "create-placement-invoices",
    async step(db, ctx) {
      const claimed = await claimInvoicesToCreate(db, ctx.now, ctx.batchSize, ctx.actor);
      const step: SweepStep = { claimed: claimed.length, processed: 0, skipped: 0, failed: 0 };
      for (const row of claimed) {
        const ok = await createStripeInvoice(db, gateway, row, ctx.actor, ctx.now);
        if (ok) step.processed++;
        else step.failed++;
      }
      return step;
    },
    async remaining(db, ctx) {
      const [row] = await queryRows<{ n: string | number }>(
        db,
        sql`select (select count(*) from placements p where p.status = 'guarantee_completed'
                      and not exists (select 1 from placement_invoices i where i.placement_id = p.id))
                 + (select count(*) from placement_invoices where status = 'creating'
                      and (lease_expires_at is null or lease_expires_at < ${ctx.now.toISOString()}::timestamptz)) as n`,
      );
      return Number(row?.n ?? 0);
    },
  };
}

type InvoiceToCreate = PlacementInvoice & { customer: string; description: string };

/** Rows a retry left in `creating` (lease over), then new rows for completed placements without one. */
async function claimInvoicesToCreate(
  db: Db,
  now: Date,
  limit: number,
  actor: Actor,
): Promise<InvoiceToCreate[]> {
  const leaseUntil = new Date(now.getTime() + INVOICE_LEASE_MS).toISOString();
  const rows = await db.transaction(async (tx) => {
    const retried = await tx
      .update(placementInvoices)
      .set({ leaseExpiresAt: new Date(leaseUntil), updatedAt: now })
      .where(
        sql`${placementInvoices.id} in (
          select id from placement_invoices
          where status = 'creating' and (lease_expires_at is null or lease_expires_at < ${now.toISOString()}::timestamptz)
          order by created_at limit ${limit} for update skip locked)`,
      )
      .returning();
    const room = limit - retried.length;
    if (room <= 0) return retried;
    // The key is derived from the new row's id, generated here so both land in one INSERT.
    const created = await queryRows<{ id: string }>(
      tx,
      sql`insert into placement_invoices (id, placement_id, amount_cents, currency, status, idempotency_key, lease_expires_at)
          select x.id, x.placement_id, x.fee_cents, x.currency, 'creating', 'placement_invoice:' || x.id, ${leaseUntil}::timestamptz
          from (select gen_random_uuid() as id, p.id as placement_id, p.fee_cents, p.currency
                from placements p
                where p.status = 'guarantee_completed'
                  and not exists (select 1 from placement_invoices i where i.placement_id = p.id)
                order by p.status_changed_at, p.id
                limit ${room}) x
          on conflict (placement_id) do nothing
          returning id`,
    );
    const fresh =
      created.length === 0
        ? []
        : await tx
            .select()
            .from(placementInvoices)
            .where(
              inArray(
                placementInvoices.id,
                created.map((c) => c.id),
              ),
            );
    await recordAudits(
      tx,
      fresh.map((after) => ({
        actor,
        action: "placement_invoice.created",
        entityType: "placement_invoice",
        entityId: after.id,
        after,
        reason: `guarantee of placement ${after.placementId} completed`,
      })),
    );
    return [...retried, ...fresh];
  });
  if (rows.length === 0) return [];
  const details = await db
    .select({
      id: placements.id,
      customer: placements.clientStripeCustomerId,
      candidateName: placements.candidateName,
      clientName: placements.clientName,
    })
    .from(placements)
    .where(
      inArray(
        placements.id,
        rows.map((r) => r.placementId),
      ),
    );
  const byId = new Map(details.map((d) => [d.id, d]));
  return rows.map((row) => {
    const p = byId.get(row.placementId)!;
    const description = `Placement fee${p.candidateName ? `: ${p.candidateName}` : ""} (placement ${row.placementId})`;
    return { ...row, customer: p.customer, description };
  });
}

/** The Stripe calls for one row; each result is stored as soon as it exists. */
async function createStripeInvoice(
  db: Db,
  gateway: StripeGateway,
  row: InvoiceToCreate,
  actor: Actor,
  now: Date,
): Promise<boolean> {
  const keys = invoiceKeys(row.idempotencyKey);
  const metadata = { placement_id: row.placementId, placement_invoice_id: row.id };
  try {
    let stripeInvoiceId = row.stripeInvoiceId;
    if (!stripeInvoiceId) {
      const invoice = await gateway.createInvoice({
        customer: row.customer,
        collectionMethod: "send_invoice",
        daysUntilDue: INVOICE_DAYS_UNTIL_DUE,
        description: row.description,
        metadata,
        idempotencyKey: keys.invoice,
      });
      stripeInvoiceId = invoice.id!;
      // Stored at once: a crash before the item is added resumes on this invoice.
      await db
        .update(placementInvoices)
        .set({ stripeInvoiceId, updatedAt: new Date() })
        .where(and(eq(placementInvoices.id, row.id), isNull(placementInvoices.stripeInvoiceId)));
    }
    const item = row.stripeInvoiceItemId
      ? null
      : await gateway.createInvoiceItem({
          customer: row.customer,
          amount: row.amountCents,
          currency: row.currency,
          description: row.description,
          invoice: stripeInvoiceId,
          metadata,
          idempotencyKey: keys.item,
        });
    await db.transaction(async (tx) => {
      const [after] = await tx
        .update(placementInvoices)
        .set({
          status: "draft",
          stripeInvoiceId,
          stripeInvoiceItemId: item?.id ?? row.stripeInvoiceItemId,
          leaseExpiresAt: null,
          lastError: null,
          updatedAt: new Date(),
        })
        .where(and(eq(placementInvoices.id, row.id), eq(placementInvoices.status, "creating")))
        .returning();
      if (after) {
        await recordAudit(tx, {
          actor,
          action: "placement_invoice.drafted",
          entityType: "placement_invoice",
          entityId: row.id,
          before: { status: "creating" },
          after,
          reason: "Stripe draft invoice with its invoice item created",
        });
      }
    });
    return true;
  } catch (error) {
    // Not a dead end: the row keeps its keys and the next sweep after the delay tries again.
    await db
      .update(placementInvoices)
      .set({
        lastError: errorMessage(error),
        leaseExpiresAt: new Date(now.getTime() + INVOICE_RETRY_DELAY_MS),
        updatedAt: new Date(),
      })
      .where(eq(placementInvoices.id, row.id));
    return false;
  }
}
