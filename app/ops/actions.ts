"use server";

import { z } from "zod";
import { withAction } from "@/lib/api/with-action";
import { decideBankAccountMatch } from "@/lib/accounts/bank-accounts";
import { endEscrowHold } from "@/lib/escrow/holds";
import { approvePayout, rejectPayout } from "@/lib/payouts/approval";
import { cancelPayoutSchedule, triggerPayoutSchedule } from "@/lib/payout-schedules/admin";
import { setPayoutsPaused } from "@/lib/payouts/pause";
import { retryPayout } from "@/lib/payouts/retry";
import { triggerPayoutRun, workRunInBackground } from "@/lib/payouts/run";
import { isoDate } from "@/lib/schemas/common";
import { requestReplay } from "@/lib/webhooks";
import { appWebhookDeps } from "@/lib/webhooks/deps";

// Ops actions: platform admins only (finance is read-only), re-checked on the server for every call
// whatever the page showed (withAction). Each validates its form with zod, calls one lib/ function
// (which audits), and comes back to a page with a notice or an error.

const ADMIN = ["platform_admin"] as const;
const reason = z.string().trim().max(500).optional();

export const triggerRunAction = withAction(
  {
    name: "triggerRun",
    roles: ADMIN,
    page: "/ops",
    form: z.object({
      cycleDate: isoDate.optional().or(z.literal("").transform(() => undefined)),
      dryRun: z.literal("on").optional(),
    }),
    invalid: "Cycle date must be a date (YYYY-MM-DD) or empty for the latest cycle.",
    failed: "Could not start the run",
  },
  async ({ input, user, db, env }) => {
    const result = await triggerPayoutRun(db, env, {
      cycleDate: input.cycleDate,
      dryRun: input.dryRun === "on",
      trigger: "manual",
      actor: user.actor,
    });
    if (result.kind === "paused") return { error: "Payouts are paused: resume them before starting a run." };
    if (result.kind === "run" && result.chainId) {
      await workRunInBackground(db, env, result.runId, { chainId: result.chainId, reason: "trigger" });
    }
    const runPage = `/ops/runs/${result.runId}`;
    if (result.kind === "run" && !result.created) {
      return { notice: `The ${result.cycleKey} run already exists; here it is.`, to: runPage };
    }
    return { redirectTo: runPage };
  },
);

export const retryPayoutAction = withAction(
  {
    name: "retryPayout",
    roles: ADMIN,
    page: "/ops/runs",
    back: (input) => `/ops/runs/${input.runId}`,
    form: z.object({ payoutId: z.uuid(), runId: z.uuid(), reason: z.string().max(500).optional() }),
    invalid: "That retry request was malformed; reload the run page.",
    failed: "Retry refused",
  },
  async ({ input, user, db, env }) => {
    await retryPayout(db, env, input.payoutId, user.actor, input.reason || "retried from the ops console");
    return { notice: "Payout queued again; the run is executing it." };
  },
);

export const setPauseAction = withAction(
  {
    name: "setPause",
    roles: ADMIN,
    page: "/ops",
    form: z.object({ paused: z.enum(["true", "false"]), reason }),
    invalid: "Malformed pause request.",
    failed: "Could not change the pause switch",
  },
  async ({ input, user, db }) => {
    const paused = input.paused === "true";
    if (paused && !input.reason) return { error: "Say why you are pausing payouts (it goes to the audit log and Slack)." };
    await setPayoutsPaused(db, { paused, actor: user.actor, reason: input.reason || null });
    return { notice: paused ? "Payouts paused. No run will move money until you resume." : "Payouts resumed." };
  },
);

export const replayEventAction = withAction(
  {
    name: "replayEvent",
    roles: ADMIN,
    page: "/ops/events",
    form: z.object({ eventId: z.string().min(1).max(255), force: z.literal("on").optional() }),
    invalid: "Malformed replay request.",
    failed: (input) => `Replay of ${input.eventId} refused`,
  },
  async ({ input, user, db, env }) => {
    const deps = appWebhookDeps(env);
    const { event } = await requestReplay(db, input.eventId, {
      force: input.force === "on",
      actor: user.actor,
      env: deps.env,
      gateway: deps.gateway,
    });
    return { notice: `Replayed ${input.eventId}: now ${event.status}.` };
  },
);

export const endHoldAction = withAction(
  {
    name: "endHold",
    roles: ADMIN,
    page: "/ops/holds",
    form: z.object({ holdId: z.uuid(), outcome: z.enum(["released", "cancelled"]), reason }),
    invalid: "Malformed hold request.",
    failed: "Hold not changed",
  },
  async ({ input, user, db }) => {
    if (input.outcome === "cancelled" && !input.reason) return { error: "Say why the hold is cancelled." };
    await endEscrowHold(db, { id: input.holdId, outcome: input.outcome, actor: user.actor, reason: input.reason || null });
    return { notice: `Hold ${input.outcome}; the money is available to the payee again.` };
  },
);

export const scheduleAction = withAction(
  {
    name: "schedule",
    roles: ADMIN,
    page: "/ops/schedules",
    form: z.object({ scheduleId: z.uuid(), op: z.enum(["trigger", "cancel"]), reason }),
    invalid: "Malformed schedule request.",
    failed: "Schedule not changed",
  },
  async ({ input, user, db, env }) => {
    if (input.op === "cancel") {
      if (!input.reason) return { error: "Say why the schedule is cancelled." };
      await cancelPayoutSchedule(db, { id: input.scheduleId, actor: user.actor, reason: input.reason });
      return { notice: "Schedule cancelled." };
    }
    const result = await triggerPayoutSchedule(db, {
      id: input.scheduleId,
      actor: user.actor,
      clearingDelayHours: env.PLACEMENT_CLEARING_DELAY_HOURS,
      reason: input.reason || undefined,
    });
    return {
      notice:
        result.outcome === "processed"
          ? "Schedule processed: the share is credited."
          : result.outcome === "not_collectible"
            ? "Not collectible yet (invoice unpaid or still clearing); it stays pending."
            : `Processing failed: ${result.schedule.failureReason ?? "see the audit log"}.`,
    };
  },
);

// Four-eyes approval: finance may decide too (the one action open to finance). The domain refuses a
// decision on one's own payout, or by someone who changed the payee's settings in the last 30 days.
export const decidePayoutAction = withAction(
  {
    name: "decidePayout",
    roles: ["platform_admin", "finance"],
    page: "/ops/approvals",
    form: z.object({ payoutId: z.uuid(), decision: z.enum(["approve", "reject"]), reason }),
    invalid: "Malformed approval request; reload the page.",
    failed: "Decision refused",
  },
  async ({ input, user, db, env }) => {
    if (!input.reason)
      return { error: "Say why you approve or reject this payout (it goes to the audit log)." };
    if (input.decision === "approve") {
      await approvePayout(db, env, { payoutId: input.payoutId, actor: user.actor, reason: input.reason });
      return { notice: "Payout approved; the run is sending it." };
    }
    await rejectPayout(db, { payoutId: input.payoutId, actor: user.actor, reason: input.reason });
    return { notice: "Payout rejected; the money stays in the payee's balance for the next cycle." };
  },
);

export const bankMatchAction = withAction(
  {
    name: "bankMatch",
    roles: ADMIN,
    page: "/ops/bank-accounts",
    form: z.object({ matchId: z.uuid(), decision: z.enum(["clear", "confirm"]), reason }),
    invalid: "Malformed request; reload the page.",
    failed: "Match not changed",
  },
  async ({ input, user, db }) => {
    if (!input.reason) return { error: "Say why you clear or confirm this match (it goes to the audit log)." };
    await decideBankAccountMatch(db, { matchId: input.matchId, decision: input.decision, actor: user.actor, reason: input.reason });
    return {
      notice:
        input.decision === "clear"
          ? "Match cleared: both payees are paid again from the next run."
          : "Match confirmed: both payees' payouts stay held until it is cleared.",
    };
  },
);
