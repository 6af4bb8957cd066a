import { z } from "zod";

/** Body of POST /internal/payouts/continue: a chain's next step, or just the run (a nudge). */
export const continueRunBody = z
  .object({
    runId: z.uuid(),
    chainId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional(),
    continuation: z.number().int().min(0).max(100_000).optional(),
  })
  .strict();
export type ContinueRunBody = z.infer<typeof continueRunBody>;

/** Body of POST /internal/payouts/watchdog: nothing (the schedule sends `{}`). */
export const watchdogBody = z.object({}).strict();

/** Body of POST /api/v1/payouts/:id/approve and /reject: why (it goes to the audit log). */
export const approvalDecisionBody = z.strictObject({ reason: z.string().trim().min(1, "say why").max(500) });

export const approvalDecisionResponse = z.object({
  payoutId: z.string(),
  runId: z.string().nullable(),
  status: z.enum(["planned", "rejected"]),
  reopenedRun: z.boolean(),
});
