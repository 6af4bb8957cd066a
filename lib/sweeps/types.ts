import type { Db } from "../../db/client";
import type { Actor } from "../actor";

/** What every sweep answers: `200 { processed, skipped, failed, remaining }`. */
export type SweepResult = {
  processed: number;
  skipped: number;
  failed: number;
  /** Work still eligible when the sweep stopped (a continuation is sent when this is > 0). */
  remaining: number;
};

/** One batch's outcome. `claimed` 0 means there is nothing left to do this time round. */
export type SweepStep = { claimed: number; processed: number; skipped: number; failed: number };

export type SweepContext = {
  /** The sweep's clock: tests pass one in, production uses the wall clock. */
  now: Date;
  actor: Actor;
  batchSize: number;
};

export type SweepDefinition = {
  /** The path segment under /internal/sweeps/ and the system actor's name. */
  name: SweepName;
  /** Claim one batch atomically and work it; must never claim a row another instance holds. */
  step(db: Db, ctx: SweepContext): Promise<SweepStep>;
  /** How much eligible work is left (for the answer and the continuation decision). */
  remaining(db: Db, ctx: SweepContext): Promise<number>;
  /** Rows due but deliberately left alone (e.g. an unpaid invoice), added to `skipped` once per run. */
  waiting?(db: Db, ctx: SweepContext): Promise<number>;
};

export const sweepNames = [
  "complete-expired-guarantees",
  "create-placement-invoices",
  "finalize-placement-invoices",
  "payout-schedules",
  "escrow-releases",
  "ledger-invariants",
  "reconcile",
  "instant-payouts",
] as const;
export type SweepName = (typeof sweepNames)[number];
