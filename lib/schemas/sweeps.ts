import { z } from "zod";

/** Body of POST /internal/sweeps/<name>: empty from the scheduler, numbered on a continuation. */
export const sweepRequestBody = z.object({
  continuation: z.number().int().min(0).max(1000).optional(),
  chainId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/)
    .optional(),
});
export type SweepRequest = z.infer<typeof sweepRequestBody>;

export const sweepResponse = z.object({
  processed: z.number().int(),
  skipped: z.number().int(),
  failed: z.number().int(),
  remaining: z.number().int(),
});
