import { eq, sql } from "drizzle-orm";
import { queryRows } from "../../db/client";
import { escrowHolds } from "../../db/schema";
import { errorText, log } from "../observability/log";
import type { SweepDefinition, SweepStep } from "../sweeps/types";
import { endLockedHold } from "./holds";

/** A hold whose release failed waits this long before the sweep tries it again. */
export const HOLD_RETRY_DELAY_MS = 60 * 60_000;

/**
 * escrow-releases: every active hold whose release date has come (placement escrow, the rolling
 * reserve taken from each earning, manual holds) goes back to available. Dispute holds have no release date
 * and are ended by the dispute webhooks. One transaction per batch, rows claimed FOR UPDATE SKIP
 * LOCKED; each hold in its own savepoint so one bad hold cannot block the rest.
 */
/** Holds the sweep may release now: the one condition both the claim and the count use. */
const dueHolds = (now: Date) =>
  sql`status = 'active' and release_at <= ${now.toISOString()}::timestamptz
      and (lease_expires_at is null or lease_expires_at < ${now.toISOString()}::timestamptz)`;

export const escrowReleasesSweep: SweepDefinition = {
  name: "escrow-releases",
  async step(db, ctx) {
    return db.transaction(async (tx) => {
      const due = await tx
        .select()
        .from(escrowHolds)
        .where(
          sql`${escrowHolds.id} in (
            select id from escrow_holds where ${dueHolds(ctx.now)}
            order by release_at, id limit ${ctx.batchSize} for update skip locked)`,
        );
      const step: SweepStep = { claimed: due.length, processed: 0, skipped: 0, failed: 0 };
      for (const hold of due) {
        try {
          await tx.transaction((savepoint) =>
            endLockedHold(
              savepoint,
              hold,
              "released",
              ctx.actor,
              `release date ${hold.releaseAt?.toISOString()} reached`,
            ),
          );
          step.processed++;
        } catch (error) {
          step.failed++;
          log.warn("escrow hold release failed", { holdId: hold.id, error: errorText(error) });
          await tx
            .update(escrowHolds)
            .set({ leaseExpiresAt: new Date(ctx.now.getTime() + HOLD_RETRY_DELAY_MS) })
            .where(eq(escrowHolds.id, hold.id));
        }
      }
      return step;
    });
  },
  async remaining(db, ctx) {
    const [row] = await queryRows<{ n: string | number }>(
      db,
      sql`select count(*) as n from escrow_holds where ${dueHolds(ctx.now)}`,
    );
    return Number(row?.n ?? 0);
  },
};
