// POST /webhooks/stripe: verify Stripe's signature on the raw body, store the event, apply it.
import type { NextRequest } from "next/server";
import { getDb } from "@/db/client";
import { readRawBody, toErrorResponse } from "@/lib/api/handler";
import { json } from "@/lib/api/respond";
import { getEnv } from "@/lib/env";
import { appWebhookDeps } from "@/lib/webhooks/deps";
import { receiveStripeWebhook } from "@/lib/webhooks/ingest";

export const dynamic = "force-dynamic";

export async function POST(req: NextRequest): Promise<Response> {
  try {
    const env = getEnv();
    const rawBody = await readRawBody(req); // 413 over 1 MB
    // 400 on a bad, missing, stale or tampered signature, before any query runs.
    const result = await receiveStripeWebhook(
      getDb,
      { rawBody, signature: req.headers.get("stripe-signature") },
      { ...appWebhookDeps(env), secrets: env },
    );
    // 500 only when applying failed: Stripe delivers it again and the retry applies it.
    if (result.status === "failed") return json({ status: "failed", eventId: result.eventId }, 500);
    return json(result.conflict ? { status: result.status, conflict: true } : { status: result.status });
  } catch (error) {
    return toErrorResponse(error, "POST /webhooks/stripe");
  }
}
