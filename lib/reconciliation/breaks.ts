import { and, eq, type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { afterTableCursor, newestFirst, type Page, type PageRequest, toPage, withCursorKey } from "../../db/paging";
import { type BreakKind, type ReconciliationBreak, reconciliationBreaks } from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import { DomainError, notFound } from "../errors";

export type BreakFinding = {
  kind: BreakKind;
  subject: string;
  account: string;
  stripeObject: string | null;
  currency: string | null;
  stripeAmount: number | null;
  ledgerAmount: number | null;
  details: Record<string, unknown>;
};

/**
 * Record what disagrees, as one open break per subject (the first time it is seen is kept, the
 * latest amounts and kind are updated). Returns whether a break was opened (not already open).
 */
export async function openBreak(db: Db, finding: BreakFinding): Promise<boolean> {
  const rows = await queryRows<{ opened: boolean }>(
    db,
    sql`insert into reconciliation_breaks (kind, subject, account, stripe_object, currency, stripe_amount, ledger_amount, details)
        values (${finding.kind}, ${finding.subject}, ${finding.account}, ${finding.stripeObject}, ${finding.currency},
                ${finding.stripeAmount}, ${finding.ledgerAmount}, ${JSON.stringify(finding.details)}::jsonb)
        on conflict (subject) where status = 'open' do update set
          kind = excluded.kind, currency = excluded.currency, stripe_amount = excluded.stripe_amount,
          ledger_amount = excluded.ledger_amount, details = excluded.details, last_seen_at = now()
        returning (xmax = 0) as opened`,
  );
  return rows[0]?.opened === true;
}

/** Close the open break of a subject that now agrees (a late webhook, a correction). Returns whether one closed. */
export async function closeBreak(db: Db, subject: string): Promise<boolean> {
  const rows = await queryRows(
    db,
    sql`update reconciliation_breaks set status = 'closed', closed_at = now(), last_seen_at = now()
        where subject = ${subject} and status = 'open' returning id`,
  );
  return rows.length > 0;
}

/** Someone accepts a break, saying why (audited). It stays in the record, no longer open. */
export async function resolveBreak(db: Db, input: { breakId: string; reason: string; actor: Actor }): Promise<ReconciliationBreak> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(reconciliationBreaks).where(eq(reconciliationBreaks.id, input.breakId)).for("update");
    if (!row) throw notFound("break");
    if (row.status !== "open") throw new DomainError("conflict", `this break is ${row.status} already`);
    const [after] = await tx
      .update(reconciliationBreaks)
      .set({ status: "resolved", resolvedAt: new Date(), resolvedBy: input.actor.id, resolution: input.reason })
      .where(and(eq(reconciliationBreaks.id, row.id), eq(reconciliationBreaks.status, "open")))
      .returning();
    await recordAudit(tx, {
      actor: input.actor,
      action: "reconciliation_break.resolved",
      entityType: "reconciliation_break",
      entityId: row.id,
      before: { status: row.status, kind: row.kind, stripeAmount: row.stripeAmount, ledgerAmount: row.ledgerAmount },
      after: { status: "resolved" },
      reason: input.reason,
    });
    return after!;
  });
}

/** Breaks, newest first (open ones unless a status is asked for), optionally of one kind or account. */
export async function listBreaks(
  db: Db,
  params: PageRequest & { kind?: BreakKind; status?: ReconciliationBreak["status"]; account?: string },
): Promise<Page<ReconciliationBreak>> {
  const where: (SQL | undefined)[] = [
    afterTableCursor(reconciliationBreaks, params.cursor),
    eq(reconciliationBreaks.status, params.status ?? "open"),
  ];
  if (params.kind) where.push(eq(reconciliationBreaks.kind, params.kind));
  if (params.account) where.push(eq(reconciliationBreaks.account, params.account));
  const rows = await db
    .select(withCursorKey(reconciliationBreaks))
    .from(reconciliationBreaks)
    .where(and(...where))
    .orderBy(...newestFirst(reconciliationBreaks))
    .limit(params.limit + 1);
  return toPage(rows, params.limit);
}

/** Open breaks, newest first, optionally of one kind (tests, the CLI). */
export async function listOpenBreaks(db: Db, input: { kind?: BreakKind; limit?: number } = {}): Promise<ReconciliationBreak[]> {
  return (await listBreaks(db, { kind: input.kind, limit: input.limit ?? 100 })).data;
}

/** Open breaks per kind: how many, and the difference they add up to per currency. */
export async function openBreakSummary(db: Db) {
  return queryRows<{ kind: BreakKind; currency: string | null; breaks: number; difference: string }>(
    db,
    sql`select kind, currency, count(*)::int as breaks,
               coalesce(sum(coalesce(stripe_amount, 0) - coalesce(ledger_amount, 0)), 0)::bigint as difference
        from reconciliation_breaks where status = 'open' group by kind, currency order by kind, currency`,
  );
}
