// POST /internal/outbox/relay: publish due outbox events (every minute, from the schedule).
import { z } from "zod";
import { withInternal } from "@/lib/api/handler";
import { json, parseJsonBody } from "@/lib/api/respond";
import { relayOutbox } from "@/lib/notify/relay";

export const dynamic = "force-dynamic";

const bodySchema = z.object({ limit: z.number().int().min(1).max(1000).optional() }).strict();

export const POST = withInternal(async ({ rawBody, db, env }) => {
  const { limit } = parseJsonBody(bodySchema, rawBody);
  return json(await relayOutbox(db, env, { limit: limit ?? 200 }));
});
