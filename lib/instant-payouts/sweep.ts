import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { queryRows } from "../../db/client";
import type { SweepDefinition, SweepStep } from "../sweeps/types";
import { executeInstantPayout } from "./execute";
import type { InstantGateway } from "./quote";

/**
 * instant-payouts (every minute): the resume path. An instant payout still processing whose lease
 * ran out lost its invocation (a crash or a timeout between the claim and Stripe's answer, or a
 * retryable Stripe error): this sweep takes the lease and pays it again, looking up at Stripe first
 * what an earlier attempt made, so nothing is sent twice. Leases are taken one by one with a
 * conditional UPDATE (executeInstantPayout), so two sweeps, or a sweep and a slow request, never both
 * work one payout.
 */
const stalled = sql`origin = 'instant' and status = 'processing' and lease_expires_at < now()`;

export function instantPayoutsSweep(gateway: () => InstantGateway): SweepDefinition {
  return {
    name: "instant-payouts",
    async step(db, ctx) {
      const rows = await queryRows<{ id: string }>(
        db,
        sql`select id from payouts where ${stalled} order by lease_expires_at, id limit ${ctx.batchSize}`,
      );
      const step: SweepStep = { claimed: rows.length, processed: 0, skipped: 0, failed: 0 };
      const owner = `sweep:instant-payouts:${randomUUID()}`;
      for (const row of rows) {
        const outcome = await executeInstantPayout(
          { db, gateway: gateway(), actor: ctx.actor, owner },
          row.id,
        );
        if (outcome === "in_transit") step.processed++;
        else if (outcome === "failed") step.failed++;
        else step.skipped++;
      }
      return step;
    },
    async remaining(db) {
      const [row] = await queryRows<{ n: string | number }>(
        db,
        sql`select count(*) as n from payouts where ${stalled}`,
      );
      return Number(row?.n ?? 0);
    },
  };
}
