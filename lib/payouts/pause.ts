import { eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { platformSettings } from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import type { Env } from "../env";
import { enqueueOutbox } from "../outbox";

export const PAUSE_SETTING_KEY = "payouts_paused";

type PauseValue = { paused: boolean; reason?: string | null; at?: string };

/** Paused by ops (DB flag) or by configuration (PAYOUTS_PAUSED=true). */
export async function isPayoutsPaused(db: Db, env: Pick<Env, "PAYOUTS_PAUSED">): Promise<boolean> {
  if (env.PAYOUTS_PAUSED) return true;
  return (await readPauseFlag(db)).paused;
}

export async function readPauseFlag(db: Db): Promise<PauseValue & { updatedBy?: string | null }> {
  const [row] = await db.select().from(platformSettings).where(eq(platformSettings.key, PAUSE_SETTING_KEY));
  const value = (row?.value ?? { paused: false }) as PauseValue;
  return { paused: value.paused === true, reason: value.reason ?? null, at: value.at, updatedBy: row?.updatedBy };
}

/** Flip the DB flag, audited and announced in the same transaction. */
export async function setPayoutsPaused(
  db: Db,
  input: { paused: boolean; actor: Actor; reason?: string | null },
): Promise<{ paused: boolean; changed: boolean }> {
  return db.transaction(async (tx) => {
    const before = await readPauseFlag(tx);
    const value: PauseValue = { paused: input.paused, reason: input.reason ?? null, at: new Date().toISOString() };
    await tx
      .insert(platformSettings)
      .values({ key: PAUSE_SETTING_KEY, value, updatedBy: input.actor.id })
      .onConflictDoUpdate({
        target: platformSettings.key,
        set: { value, updatedBy: input.actor.id, updatedAt: sql`now()` },
      });
    const changed = before.paused !== input.paused;
    await recordAudit(tx, {
      actor: input.actor,
      action: input.paused ? "payouts.paused" : "payouts.resumed",
      entityType: "platform_setting",
      entityId: PAUSE_SETTING_KEY,
      before: { paused: before.paused },
      after: { paused: input.paused },
      reason: input.reason ?? null,
    });
    if (changed) {
      await enqueueOutbox(tx, {
        type: input.paused ? "alert.payouts_paused" : "alert.payouts_resumed",
        destination: "slack",
        payload: {
          text: `Payouts ${input.paused ? "PAUSED" : "resumed"} by ${input.actor.id}${input.reason ? `: ${input.reason}` : ""}`,
        },
      });
    }
    return { paused: input.paused, changed };
  });
}
