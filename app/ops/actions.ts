"use server";

import { redirect, unstable_rethrow } from "next/navigation";
import { z } from "zod";
import { getDb } from "@/db/client";
import { requireActionUser } from "@/lib/auth/session";
import { endEscrowHold } from "@/lib/escrow/holds";
import { getEnv } from "@/lib/env";
import { cancelPayoutSchedule, triggerPayoutSchedule } from "@/lib/payout-schedules/admin";
import { setPayoutsPaused } from "@/lib/payouts/pause";
import { retryPayout } from "@/lib/payouts/retry";
import { triggerPayoutRun, workRunInBackground } from "@/lib/payouts/run";
import { requestReplay } from "@/lib/webhooks";
import { appWebhookDeps } from "@/lib/webhooks/deps";

// Ops actions: platform admins only (finance is read-only), re-checked on the server for every call
// whatever the page showed. Each validates its form with zod, calls one lib/ function (which audits),
// and comes back to a page with a notice or an error in the URL.

const ADMIN = ["platform_admin"] as const;

const back = (path: string, kind: "notice" | "error", text: string): never =>
  redirect(`${path}${path.includes("?") ? "&" : "?"}${kind}=${encodeURIComponent(text)}`);

function formValues(formData: FormData): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of formData.entries()) if (typeof v === "string" && !k.startsWith("$ACTION")) out[k] = v;
  return out;
}

const triggerForm = z.object({
  cycleDate: z.iso.date().optional().or(z.literal("").transform(() => undefined)),
  dryRun: z.literal("on").optional(),
});

export async function triggerRunAction(formData: FormData): Promise<void> {
  const user = await requireActionUser(ADMIN);
  const parsed = triggerForm.safeParse(formValues(formData));
  if (!parsed.success) back("/ops", "error", "Cycle date must be a date (YYYY-MM-DD) or empty for the latest cycle.");
  const input = parsed.data!;
  const env = getEnv();
  let target: string;
  try {
    const result = await triggerPayoutRun(await getDb(), env, {
      cycleDate: input.cycleDate,
      dryRun: input.dryRun === "on",
      trigger: "manual",
      actor: user.actor,
    });
    if (result.kind === "paused") back("/ops", "error", "Payouts are paused: resume them before starting a run.");
    if (result.kind === "run" && result.chainId) await workRunInBackground(await getDb(), env, result.runId, { chainId: result.chainId, reason: "trigger" });
    target = result.kind === "paused" ? "/ops" : `/ops/runs/${result.runId}`;
    if (result.kind === "run" && !result.created) target += `?notice=${encodeURIComponent(`The ${result.cycleKey} run already exists; here it is.`)}`;
  } catch (error) {
    unstable_rethrow(error);
    back("/ops", "error", `Could not start the run: ${(error as Error).message}`);
  }
  redirect(target!);
}

const retryForm = z.object({ payoutId: z.uuid(), runId: z.uuid(), reason: z.string().max(500).optional() });

export async function retryPayoutAction(formData: FormData): Promise<void> {
  const user = await requireActionUser(ADMIN);
  const parsed = retryForm.safeParse(formValues(formData));
  if (!parsed.success) back("/ops/runs", "error", "That retry request was malformed; reload the run page.");
  const { payoutId, runId, reason } = parsed.data!;
  const page = `/ops/runs/${runId}`;
  try {
    await retryPayout(await getDb(), getEnv(), payoutId, user.actor, reason || "retried from the ops console");
  } catch (error) {
    back(page, "error", `Retry refused: ${(error as Error).message}`);
  }
  back(page, "notice", "Payout queued again; the run is executing it.");
}

const pauseForm = z.object({ paused: z.enum(["true", "false"]), reason: z.string().trim().max(500).optional() });

export async function setPauseAction(formData: FormData): Promise<void> {
  const user = await requireActionUser(ADMIN);
  const parsed = pauseForm.safeParse(formValues(formData));
  if (!parsed.success) back("/ops", "error", "Malformed pause request.");
  const paused = parsed.data!.paused === "true";
  if (paused && !parsed.data!.reason) back("/ops", "error", "Say why you are pausing payouts (it goes to the audit log and Slack).");
  try {
    await setPayoutsPaused(await getDb(), { paused, actor: user.actor, reason: parsed.data!.reason || null });
  } catch (error) {
    back("/ops", "error", `Could not change the pause switch: ${(error as Error).message}`);
  }
  back("/ops", "notice", paused ? "Payouts paused. No run will move money until you resume." : "Payouts resumed.");
}

const replayForm = z.object({ eventId: z.string().min(1).max(255), force: z.literal("on").optional() });

export async function replayEventAction(formData: FormData): Promise<void> {
  const user = await requireActionUser(ADMIN);
  const parsed = replayForm.safeParse(formValues(formData));
  if (!parsed.success) back("/ops/events", "error", "Malformed replay request.");
  const { eventId, force } = parsed.data!;
  let outcome: string;
  try {
    const deps = appWebhookDeps(getEnv());
    const { event } = await requestReplay(await getDb(), eventId, {
      force: force === "on",
      actor: user.actor,
      env: deps.env,
      gateway: deps.gateway,
    });
    outcome = event.status;
  } catch (error) {
    back("/ops/events", "error", `Replay of ${eventId} refused: ${(error as Error).message}`);
  }
  back("/ops/events", "notice", `Replayed ${eventId}: now ${outcome!}.`);
}

const holdForm = z.object({
  holdId: z.uuid(),
  outcome: z.enum(["released", "cancelled"]),
  reason: z.string().trim().max(500).optional(),
});

export async function endHoldAction(formData: FormData): Promise<void> {
  const user = await requireActionUser(ADMIN);
  const parsed = holdForm.safeParse(formValues(formData));
  if (!parsed.success) back("/ops/holds", "error", "Malformed hold request.");
  const { holdId, outcome, reason } = parsed.data!;
  if (outcome === "cancelled" && !reason) back("/ops/holds", "error", "Say why the hold is cancelled.");
  try {
    await endEscrowHold(await getDb(), { id: holdId, outcome, actor: user.actor, reason: reason || null });
  } catch (error) {
    back("/ops/holds", "error", `Hold not changed: ${(error as Error).message}`);
  }
  back("/ops/holds", "notice", `Hold ${outcome}; the money is available to the payee again.`);
}

const scheduleForm = z.object({
  scheduleId: z.uuid(),
  op: z.enum(["trigger", "cancel"]),
  reason: z.string().trim().max(500).optional(),
});

export async function scheduleAction(formData: FormData): Promise<void> {
  const user = await requireActionUser(ADMIN);
  const parsed = scheduleForm.safeParse(formValues(formData));
  if (!parsed.success) back("/ops/schedules", "error", "Malformed schedule request.");
  const { scheduleId, op, reason } = parsed.data!;
  const db = await getDb();
  let message: string;
  try {
    if (op === "cancel") {
      if (!reason) back("/ops/schedules", "error", "Say why the schedule is cancelled.");
      await cancelPayoutSchedule(db, { id: scheduleId, actor: user.actor, reason: reason! });
      message = "Schedule cancelled.";
    } else {
      const result = await triggerPayoutSchedule(db, {
        id: scheduleId,
        actor: user.actor,
        clearingDelayHours: getEnv().PLACEMENT_CLEARING_DELAY_HOURS,
        reason: reason || undefined,
      });
      message =
        result.outcome === "processed"
          ? "Schedule processed: the share is credited."
          : result.outcome === "not_collectible"
            ? "Not collectible yet (invoice unpaid or still clearing); it stays pending."
            : `Processing failed: ${result.schedule.failureReason ?? "see the audit log"}.`;
    }
  } catch (error) {
    unstable_rethrow(error);
    back("/ops/schedules", "error", `Schedule not changed: ${(error as Error).message}`);
  }
  back("/ops/schedules", "notice", message!);
}
