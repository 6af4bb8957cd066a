import { and, eq, ilike, or, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { type Payee, payees, payoutSettings } from "../../db/schema";
import type { Actor } from "../actor";
import { DomainError, notFound } from "../errors";
import { recordAudit } from "../audit";
import { afterTableCursor, isUniqueViolation, newestFirst, type PageRequest, toPage, withCursorKey } from "../../db/paging";
import type { CreatePayeeInput, PayoutSettingsInput, UpdatePayeeInput } from "../schemas/payees";

// Payee records and their payout settings as the admin API edits them. `scopePayeeId` confines a
// payee user to its own row: anything else is "not found", never "forbidden", so ids do not leak.

type Scope = { scopePayeeId?: string };

export async function createPayee(db: Db, params: { input: CreatePayeeInput; actor: Actor }): Promise<Payee> {
  try {
    return await db.transaction(async (tx) => {
      const [row] = await tx.insert(payees).values(params.input).returning();
      await recordAudit(tx, {
        actor: params.actor,
        action: "payee.created",
        entityType: "payee",
        entityId: row!.id,
        after: row,
      });
      return row!;
    });
  } catch (error) {
    if (isUniqueViolation(error))
      throw new DomainError("conflict", "a payee with this externalRef or userId exists");
    throw error;
  }
}

export async function getPayee(db: Db, params: { id: string } & Scope): Promise<Payee> {
  if (params.scopePayeeId && params.scopePayeeId !== params.id) throw notFound("payee");
  const [row] = await db.select().from(payees).where(eq(payees.id, params.id));
  if (!row) throw notFound("payee");
  return row;
}

export async function listPayees(db: Db, params: PageRequest & Scope & { q?: string }) {
  const where: (SQL | undefined)[] = [afterTableCursor(payees, params.cursor)];
  if (params.scopePayeeId) where.push(eq(payees.id, params.scopePayeeId));
  if (params.q) {
    const like = `%${params.q.replace(/[%_\\]/g, "\\$&")}%`;
    where.push(
      or(ilike(payees.displayName, like), ilike(payees.email, like), ilike(payees.externalRef, like)),
    );
  }
  const rows = await db
    .select(withCursorKey(payees))
    .from(payees)
    .where(and(...where))
    .orderBy(...newestFirst(payees))
    .limit(params.limit + 1);
  return toPage(rows, params.limit);
}

export async function updatePayee(db: Db, params: { id: string; input: UpdatePayeeInput; actor: Actor }) {
  try {
    return await db.transaction(async (tx) => {
      const [before] = await tx.select().from(payees).where(eq(payees.id, params.id)).for("update");
      if (!before) throw notFound("payee");
      const [after] = await tx
        .update(payees)
        .set({ ...params.input, updatedAt: new Date() })
        .where(eq(payees.id, params.id))
        .returning();
      await recordAudit(tx, {
        actor: params.actor,
        action: "payee.updated",
        entityType: "payee",
        entityId: params.id,
        before,
        after,
      });
      return after!;
    });
  } catch (error) {
    if (isUniqueViolation(error))
      throw new DomainError("conflict", "a payee with this externalRef or userId exists");
    throw error;
  }
}

const defaultSettings = (payeeId: string) => ({
  payeeId,
  payoutsEnabled: true,
  betaRollout: false,
  minimumPayoutCents: null as number | null,
  updatedAt: null as Date | null,
});

/** A payee's payout settings; the defaults when none were ever saved. */
export async function getPayoutSettings(db: Db, params: { payeeId: string } & Scope) {
  await getPayee(db, { id: params.payeeId, scopePayeeId: params.scopePayeeId });
  const [row] = await db.select().from(payoutSettings).where(eq(payoutSettings.payeeId, params.payeeId));
  return row ?? defaultSettings(params.payeeId);
}

/** Change payouts enabled / beta rollout / minimum; audited with before and after. */
export async function updatePayoutSettings(
  db: Db,
  params: { payeeId: string; input: PayoutSettingsInput; actor: Actor; reason?: string },
) {
  await getPayee(db, { id: params.payeeId });
  return db.transaction(async (tx) => {
    const [existing] = await tx
      .select()
      .from(payoutSettings)
      .where(eq(payoutSettings.payeeId, params.payeeId))
      .for("update");
    const before = existing ?? defaultSettings(params.payeeId);
    const [after] = await tx
      .insert(payoutSettings)
      .values({ ...before, ...params.input, payeeId: params.payeeId, updatedAt: new Date() })
      .onConflictDoUpdate({ target: payoutSettings.payeeId, set: { ...params.input, updatedAt: new Date() } })
      .returning();
    await recordAudit(tx, {
      actor: params.actor,
      action: "payout_settings.updated",
      entityType: "payout_settings",
      entityId: params.payeeId,
      before: existing ?? null,
      after,
      reason: params.reason ?? null,
    });
    return after!;
  });
}
