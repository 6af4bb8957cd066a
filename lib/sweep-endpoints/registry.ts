import type { Env } from "../env";
import { escrowReleasesSweep } from "../escrow/release-sweep";
import { instantPayoutsSweep } from "../instant-payouts/sweep";
import { ledgerInvariantsSweep } from "../ledger/invariants";
import { payoutSchedulesSweep } from "../payout-schedules/process";
import { completeExpiredGuarantees } from "../placements/complete-guarantees";
import { createPlacementInvoicesSweep } from "../placements/create-invoices";
import { finalizePlacementInvoicesSweep } from "../placements/finalize-invoices";
import { type ReconcileEnv, reconcileSweep } from "../reconciliation/pass";
import type { StripeGateway } from "../stripe/gateway";
import type { SweepDefinition, SweepName } from "../sweeps/types";

/** The sweep behind each /internal/sweeps/<name>. The Stripe gateway is built only when one is needed. */
export function sweepDefinition(
  name: SweepName,
  deps: {
    env: Pick<Env, "PLACEMENT_CLEARING_DELAY_HOURS"> & ReconcileEnv;
    gateway: () => StripeGateway;
    /** A continuation finishes the work it was sent for and starts nothing new (reconcile's pass). */
    continuation: boolean;
  },
): SweepDefinition {
  switch (name) {
    case "complete-expired-guarantees":
      return completeExpiredGuarantees;
    case "create-placement-invoices":
      return createPlacementInvoicesSweep(deps.gateway());
    case "finalize-placement-invoices":
      return finalizePlacementInvoicesSweep(deps.gateway());
    case "payout-schedules":
      return payoutSchedulesSweep({ clearingDelayHours: deps.env.PLACEMENT_CLEARING_DELAY_HOURS });
    case "escrow-releases":
      return escrowReleasesSweep;
    case "ledger-invariants":
      return ledgerInvariantsSweep;
    case "reconcile":
      return reconcileSweep({ env: deps.env, gateway: deps.gateway, mayStartPass: !deps.continuation });
    case "instant-payouts":
      return instantPayoutsSweep(deps.gateway);
  }
}
