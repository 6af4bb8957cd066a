import { eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { placementInvoices, placements } from "../../db/schema";
import { systemActor } from "../actor";
import { createPlacement } from "../placements/crud";
import { invoiceKeys } from "../placements/invoice-state";
import type { StripeGateway } from "../stripe/gateway";
import { authoriseInvoicePayment, setBillingPilot } from "../billing/invoices";

const actor = systemActor("demo-seed");

/**
 * Demo data for /ops/billing: one more placement of the demo client, its invoice made and finalized
 * at Stripe (as the placement sweeps would), its client in the billing pilot, and the client's card
 * authorised for it, so an admin can capture and refund. Keys derive from the invoice row, as always.
 */
export async function seedBillingDemo(
  db: Db,
  gateway: StripeGateway,
  input: { payeeId: string; currency: string; timeZone: string },
): Promise<string> {
  const [client] = await db.select({ customer: placements.clientStripeCustomerId }).from(placements).limit(1);
  if (!client) return "no demo client";
  const startDate = new Date(Date.now() - 100 * 86_400_000).toISOString().slice(0, 10);
  const placement = await createPlacement(db, {
    input: {
      payeeId: input.payeeId,
      clientStripeCustomerId: client.customer,
      clientName: "Acme Corp",
      candidateName: "Morgan Diaz",
      feeCents: 900_000,
      payeeShareCents: 700_000,
      currency: input.currency,
      startDate,
      guaranteeDays: 90,
    },
    actor,
    timeZone: input.timeZone,
  });
  const [row] = await db
    .insert(placementInvoices)
    .values({
      placementId: placement.id,
      amountCents: placement.feeCents,
      currency: placement.currency,
      status: "creating",
      idempotencyKey: `placement_invoice:${placement.id}`,
      clientStripeCustomerId: client.customer,
      description: "Placement fee: Morgan Diaz",
    })
    .returning();
  const keys = invoiceKeys(row!.idempotencyKey);
  const metadata = { placement_id: placement.id, placement_invoice_id: row!.id };
  const invoice = await gateway.createInvoice({
    customer: client.customer,
    collectionMethod: "send_invoice",
    daysUntilDue: 30,
    description: "Placement fee: Morgan Diaz",
    metadata,
    idempotencyKey: keys.invoice,
  });
  await gateway.createInvoiceItem({
    customer: client.customer,
    amount: placement.feeCents,
    currency: placement.currency,
    description: "Placement fee: Morgan Diaz",
    invoice: invoice.id,
    metadata,
    idempotencyKey: keys.item,
  });
  const finalized = await gateway.finalizeInvoice(invoice.id!, keys.finalize);
  await db
    .update(placementInvoices)
    .set({
      stripeInvoiceId: invoice.id,
      status: "open",
      hostedInvoiceUrl: finalized.hosted_invoice_url ?? null,
      finalizedAt: new Date((finalized.status_transitions?.finalized_at ?? finalized.created) * 1000),
      updatedAt: new Date(),
    })
    .where(eq(placementInvoices.id, row!.id));
  await setBillingPilot(db, { invoiceId: row!.id, pilot: true, actor });
  await authoriseInvoicePayment(db, gateway, { invoiceId: row!.id, actor, stage: "general" });
  return `invoice ${invoice.id} authorised for capture`;
}
