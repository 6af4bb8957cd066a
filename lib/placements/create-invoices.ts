import { eq, inArray, sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { placementInvoices, placements } from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudits } from "../audit";
import type { StripeGateway } from "../stripe/gateway";
import { workEach } from "../sweeps/run";
import type { SweepDefinition, SweepStep } from "../sweeps/types";
import { INVOICE_LEASE_MS } from "./invoice-state";
import { createStripeInvoice, type InvoiceToCreate } from "./invoice-stripe";
import { abandonInvoices, placementEnded } from "./void-invoices";

/**
 * create-placement-invoices: one Stripe invoice (draft, one invoice item, send_invoice) per placement
 * whose guarantee completed. The placement_invoices row, with its idempotency key derived from its
 * own id, is committed BEFORE any Stripe call; the unique placement_id means a retried or concurrent
 * sweep can never make a second row, and the stored key means a retried Stripe call returns the
 * same invoice instead of making another (past Stripe's 24 h key window, invoice-stripe.ts looks the
 * lost object up instead). A row whose placement was cancelled or failed before its invoice exists
 * is voided without calling Stripe (counted as skipped).
 */
export function createPlacementInvoicesSweep(gateway: StripeGateway): SweepDefinition {
  return {
    name: "create-placement-invoices",
    async step(db, ctx) {
      const { toCreate, abandoned } = await claimInvoicesToCreate(db, ctx.now, ctx.batchSize, ctx.actor);
      const step: SweepStep = {
        claimed: toCreate.length + abandoned,
        processed: 0,
        skipped: abandoned,
        failed: 0,
      };
      await workEach(step, toCreate, (row) => createStripeInvoice(db, gateway, row, ctx.actor, ctx.now));
      return step;
    },
    async remaining(db, ctx) {
      const [row] = await queryRows<{ n: string | number }>(
        db,
        sql`select (select count(*) from placements p where ${placementsWithoutInvoice})
                 + (select count(*) from placement_invoices where ${unfinishedRows(ctx.now.toISOString())}) as n`,
      );
      return Number(row?.n ?? 0);
    },
  };
}

// What the sweep has to do, each written once and used by both the claim and the count:
// rows whose Stripe calls are unfinished (a crash or a failure left them "creating", lease over) ...
const unfinishedRows = (nowIso: string) =>
  sql`status = 'creating' and (lease_expires_at is null or lease_expires_at < ${nowIso}::timestamptz)`;
// ... and completed placements that have no invoice row yet.
const placementsWithoutInvoice = sql`p.status = 'guarantee_completed'
  and not exists (select 1 from placement_invoices i where i.placement_id = p.id)`;

/** The invoice description, from the placement at the moment the row is made (then frozen on the row). */
const descriptionSql = sql`'Placement fee' || coalesce(': ' || nullif(p.candidate_name, ''), '') || ' (placement ' || p.id || ')'`;

/**
 * Rows a retry left in `creating` (lease over), then new rows for completed placements without one.
 * New rows snapshot customer, amount, currency and description from the placement; a retried row
 * older than the snapshot columns gets them filled once, here. first_attempt_at is set on first claim.
 * Rows whose placement was cancelled or failed meanwhile are voided here instead of being returned.
 */
async function claimInvoicesToCreate(
  db: Db,
  now: Date,
  limit: number,
  actor: Actor,
): Promise<{ toCreate: InvoiceToCreate[]; abandoned: number }> {
  const leaseUntil = new Date(now.getTime() + INVOICE_LEASE_MS).toISOString();
  const nowIso = now.toISOString();
  return db.transaction(async (tx) => {
    const retried = await queryRows<{ id: string }>(
      tx,
      sql`update placement_invoices i set
            lease_expires_at = ${leaseUntil}::timestamptz,
            first_attempt_at = coalesce(i.first_attempt_at, ${nowIso}::timestamptz),
            client_stripe_customer_id = coalesce(i.client_stripe_customer_id, p.client_stripe_customer_id),
            description = coalesce(i.description, ${descriptionSql}),
            updated_at = ${nowIso}::timestamptz
          from placements p
          where p.id = i.placement_id and i.id in (
            select id from placement_invoices where ${unfinishedRows(nowIso)}
            order by created_at limit ${limit} for update skip locked)
          returning i.id`,
    );
    const room = limit - retried.length;
    // The key is derived from the new row's id, generated here so both land in one INSERT.
    const created =
      room <= 0
        ? []
        : await queryRows<{ id: string }>(
            tx,
            sql`insert into placement_invoices (id, placement_id, amount_cents, currency, status, idempotency_key,
                  client_stripe_customer_id, client_id, description, first_attempt_at, lease_expires_at)
                select x.id, x.placement_id, x.fee_cents, x.currency, 'creating', 'placement_invoice:' || x.id,
                  x.customer, (select c.id from clients c where c.stripe_customer_id = x.customer), x.description,
                  ${nowIso}::timestamptz, ${leaseUntil}::timestamptz
                from (select gen_random_uuid() as id, p.id as placement_id, p.fee_cents, p.currency,
                        p.client_stripe_customer_id as customer, ${descriptionSql} as description
                      from placements p
                      where ${placementsWithoutInvoice}
                      order by p.status_changed_at, p.id
                      limit ${room}) x
                on conflict (placement_id) do nothing
                returning id`,
          );
    const ids = [...retried, ...created].map((r) => r.id);
    if (ids.length === 0) return { toCreate: [], abandoned: 0 };
    const rows = await tx
      .select({ invoice: placementInvoices, placementStatus: placements.status })
      .from(placementInvoices)
      .innerJoin(placements, eq(placements.id, placementInvoices.placementId))
      .where(inArray(placementInvoices.id, ids));
    const createdIds = new Set(created.map((c) => c.id));
    await recordAudits(
      tx,
      rows
        .filter((r) => createdIds.has(r.invoice.id))
        .map(({ invoice: after }) => ({
          actor,
          action: "placement_invoice.created",
          entityType: "placement_invoice",
          entityId: after.id,
          after,
          reason: `guarantee of placement ${after.placementId} completed`,
        })),
    );
    const ended = rows.filter((r) => placementEnded(r.placementStatus)).map((r) => r.invoice);
    await abandonInvoices(tx, ended, ["creating"], actor, now);
    return {
      toCreate: rows
        .filter((r) => !placementEnded(r.placementStatus))
        .map((r) => r.invoice as InvoiceToCreate),
      abandoned: ended.length,
    };
  });
}
