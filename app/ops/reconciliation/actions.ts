"use server";

import { z } from "zod";
import { withAction } from "@/lib/api/with-action";
import { resolveBreak } from "@/lib/reconciliation/breaks";
import { recordOutOfBandPayout } from "@/lib/reconciliation/out-of-band";
import { outOfBandPayoutBody } from "@/lib/schemas/reconciliation";
import { invokeSweep } from "@/lib/sweep-endpoints/invoke";

// Reconciliation's ops actions: platform admins only, re-checked on the server for every call.

const ADMIN = ["platform_admin"] as const;

/** What the hourly trigger does, now: a pass starts (or the running one goes on) within the sweep's time budget. */
export const reconcileNowAction = withAction(
  {
    name: "reconcileNow",
    roles: ADMIN,
    page: "/ops/reconciliation",
    form: z.object({}),
    invalid: "Malformed request.",
    failed: "Reconciliation could not run",
  },
  async ({ db, env }) => {
    const result = await invokeSweep(db, env, "reconcile", {});
    if (result.remaining > 0)
      return { notice: `Reconciled ${result.processed} account(s); ${result.remaining} more continue in the background.` };
    return { notice: `Reconciled ${result.processed} account(s)${result.failed > 0 ? `, ${result.failed} failed (tried again next pass)` : ""}.` };
  },
);

export const resolveBreakAction = withAction(
  {
    name: "resolveBreak",
    roles: ADMIN,
    page: "/ops/reconciliation",
    form: z.object({ breakId: z.uuid(), reason: z.string().trim().min(3).max(1000) }),
    invalid: "Say why this difference is accepted (at least a few words).",
    failed: "Could not resolve the break",
  },
  async ({ input, user, db }) => {
    await resolveBreak(db, { breakId: input.breakId, reason: input.reason, actor: user.actor });
    return { notice: "Break resolved; the reason is in the audit log." };
  },
);

// The form's amount is in the currency's major unit as typed ("45.00", or "4500" for yen); the request
// key is drawn when the form is shown, so a double submit records one payout.
const outOfBandForm = z.object({
  payeeId: z.string().trim(),
  amount: z
    .string()
    .trim()
    .regex(/^\d{1,12}(\.\d{1,2})?$/, "amount like 45.00"),
  currency: z.string().trim(),
  stripePayoutId: z.string().trim().optional(),
  reason: z.string().trim(),
  requestKey: z.string().regex(/^[A-Za-z0-9-]{8,100}$/),
});

export const recordOutOfBandPayoutAction = withAction(
  {
    name: "recordOutOfBandPayout",
    roles: ADMIN,
    page: "/ops/reconciliation",
    form: outOfBandForm,
    invalid: "Payee id, an amount like 45.00, a currency and a reason are needed.",
    failed: "Could not record the payout",
  },
  async ({ input, user, db }) => {
    const amountCents = toMinorUnits(input.amount, input.currency);
    if (amountCents === null) return { error: `${input.amount} is not an amount in ${input.currency.toUpperCase()}.` };
    const body = outOfBandPayoutBody.safeParse({
      payeeId: input.payeeId,
      amountCents,
      currency: input.currency,
      stripePayoutId: input.stripePayoutId || null,
      reason: input.reason,
    });
    if (!body.success) return { error: body.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") };
    const { payout, created } = await recordOutOfBandPayout(db, { ...body.data, requestKey: `ops:${input.requestKey}`, actor: user.actor });
    return { notice: created ? `Recorded payout ${payout.id}: the ledger moved it from available to paid.` : `Already recorded as payout ${payout.id}.` };
  },
);

/** "45.00" in USD is 4500; in a currency without minor units (JPY) "4500" is 4500 and "45.5" is refused. */
function toMinorUnits(amount: string, currency: string): number | null {
  let digits: number;
  try {
    digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return null;
  }
  const [whole = "", fraction = ""] = amount.split(".");
  if (fraction.length > digits) return null;
  return Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, "0") || "0");
}
