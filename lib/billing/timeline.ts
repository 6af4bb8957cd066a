import { asc, eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { billingInvoiceEvents, type InvoiceTimelineKind } from "../../db/schema";

// An invoice's timeline (docs/BILLING.md "Invoices: capture, refund, timeline"): what happened at
// Stripe, one entry per (kind, Stripe source object), from our own calls and from webhooks,
// whichever comes first. Entries carry Stripe's own timestamps, so the timeline reads the same
// whatever order the webhooks arrived in; "partly" or "fully" refunded is worked out when it is read,
// from the running totals in that order.

export type TimelineEntryInput = {
  placementInvoiceId: string;
  kind: InvoiceTimelineKind;
  /** Stripe's timestamp for it (the object's own, else the event's created). */
  occurredAt: Date;
  amountCents?: number | null;
  currency?: string | null;
  /** The Stripe object that says it happened: the dedupe key with the kind. */
  sourceId: string;
  stripeIds?: Record<string, string | null | undefined>;
  origin: "api" | "webhook";
  stripeEventId?: string | null;
};

/**
 * Record one entry once. A second report of the same thing (the webhook after our call, or a
 * redelivery) changes nothing but the ids it adds; its time is the earlier of the two, since both
 * read Stripe's timestamps of the same object. Returns whether the entry is new.
 */
export async function recordTimelineEntry(db: Db, entry: TimelineEntryInput): Promise<boolean> {
  const stripeIds = Object.fromEntries(
    Object.entries(entry.stripeIds ?? {}).filter(
      (e): e is [string, string] => typeof e[1] === "string" && e[1] !== "",
    ),
  );
  const inserted = await db
    .insert(billingInvoiceEvents)
    .values({
      placementInvoiceId: entry.placementInvoiceId,
      kind: entry.kind,
      occurredAt: entry.occurredAt,
      amountCents: entry.amountCents ?? null,
      currency: entry.currency ?? null,
      sourceId: entry.sourceId,
      stripeIds,
      origin: entry.origin,
      stripeEventId: entry.stripeEventId ?? null,
    })
    .onConflictDoUpdate({
      target: [
        billingInvoiceEvents.placementInvoiceId,
        billingInvoiceEvents.kind,
        billingInvoiceEvents.sourceId,
      ],
      set: {
        occurredAt: sql`least(${billingInvoiceEvents.occurredAt}, excluded.occurred_at)`,
        stripeIds: sql`${billingInvoiceEvents.stripeIds} || excluded.stripe_ids`,
        stripeEventId: sql`coalesce(${billingInvoiceEvents.stripeEventId}, excluded.stripe_event_id)`,
      },
    })
    .returning({ inserted: sql<boolean>`(xmax = 0)` });
  return Boolean(inserted[0]?.inserted);
}

/** Within one second (Stripe's resolution), the order the lifecycle implies. */
const KIND_ORDER: Record<InvoiceTimelineKind, number> = {
  created: 0,
  finalized: 1,
  authorised: 2,
  captured: 3,
  paid: 4,
  refunded: 5,
  voided: 6,
  settled: 7,
};

export type TimelineEntry = {
  kind: InvoiceTimelineKind;
  /** `refunded` entries say `partly_refunded` or `refunded` (everything captured is back). */
  label: string;
  occurredAt: Date;
  amountCents: number | null;
  currency: string | null;
  sourceId: string;
  stripeIds: Record<string, string>;
  origin: "api" | "webhook";
  /** Running totals after this entry. */
  capturedCents: number;
  refundedCents: number;
};

export type Timeline = {
  entries: TimelineEntry[];
  capturedCents: number;
  refundedCents: number;
  settledAt: Date | null;
};

/** The timeline in Stripe's order, with cumulative captured and refunded amounts and the settlement time. */
export async function readTimeline(db: Db, placementInvoiceId: string): Promise<Timeline> {
  const rows = await db
    .select()
    .from(billingInvoiceEvents)
    .where(eq(billingInvoiceEvents.placementInvoiceId, placementInvoiceId))
    .orderBy(asc(billingInvoiceEvents.occurredAt));
  rows.sort(
    (a, b) =>
      a.occurredAt.getTime() - b.occurredAt.getTime() ||
      KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
      a.sourceId.localeCompare(b.sourceId),
  );
  let captured = 0;
  let refunded = 0;
  let settledAt: Date | null = null;
  const entries = rows.map((row): TimelineEntry => {
    if (row.kind === "captured") captured += row.amountCents ?? 0;
    if (row.kind === "refunded") refunded += row.amountCents ?? 0;
    if (row.kind === "settled" && !settledAt) settledAt = row.occurredAt;
    const label =
      row.kind === "refunded"
        ? refunded >= captured && captured > 0
          ? "refunded"
          : "partly_refunded"
        : row.kind;
    return {
      kind: row.kind,
      label,
      occurredAt: row.occurredAt,
      amountCents: row.amountCents,
      currency: row.currency,
      sourceId: row.sourceId,
      stripeIds: row.stripeIds,
      origin: row.origin,
      capturedCents: captured,
      refundedCents: refunded,
    };
  });
  return { entries, capturedCents: captured, refundedCents: refunded, settledAt };
}
