import type { Db } from "../../db/client";
import { log, reportMessage } from "../observability/log";
import { enqueueOutbox } from "../outbox";
import type { SweepDefinition } from "../sweeps/types";
import { type BalanceDrift, balanceDrifts } from "./balances";

/** Accounts the hourly check recomputes from their entries, picked at random each time. */
export const INVARIANT_SAMPLE = 500;

/**
 * Recompute balances from the entries and compare them with the kept ones (every account, or a
 * random sample). A difference is impossible while the database's triggers hold, so any is an
 * incident: it is logged, sent to Sentry and alerted on Slack (once an hour at most).
 */
export async function checkKeptBalances(db: Db, options: { sample?: number } = {}): Promise<{ checked: number; drifts: BalanceDrift[] }> {
  const result = await balanceDrifts(db, options);
  if (result.drifts.length > 0) {
    const message = `ledger balance drift: ${result.drifts.length} of ${result.checked} kept balances differ from their entries`;
    log.error(message, { drifts: result.drifts.slice(0, 20) });
    reportMessage(message, { level: "error", extra: { drifts: result.drifts.slice(0, 20) } });
    await enqueueOutbox(db, {
      type: "alert.ledger_balance_drift",
      destination: "slack",
      dedupeKey: `ledger_balance_drift:${Math.floor(Date.now() / 3_600_000)}`,
      payload: {
        text: `${message} (e.g. account ${result.drifts[0]!.accountId}: kept ${result.drifts[0]!.kept}, entries ${result.drifts[0]!.fromEntries}). Stop payouts and run npm run ledger:check-balances.`,
        drifts: result.drifts.slice(0, 20),
      },
    });
  }
  return result;
}

/** ledger-invariants: the hourly check of a sample of kept balances against their entries. */
export const ledgerInvariantsSweep: SweepDefinition = {
  name: "ledger-invariants",
  async step(db) {
    const { checked, drifts } = await checkKeptBalances(db, { sample: INVARIANT_SAMPLE });
    return { claimed: 0, processed: checked - drifts.length, skipped: 0, failed: drifts.length };
  },
  remaining: async () => 0,
};
