// POST /api/v1/payouts/out-of-band (platform_admin, Idempotency-Key): record a payout ops made by
// hand at Stripe while Payrun was down (docs/RUNBOOK.md). 201 with the payout the first time, 200
// with the same payout for the same key again, 409 for the same key with another payout.
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { recordOutOfBandPayout } from "@/lib/reconciliation/out-of-band";
import { idempotencyKeyHeader } from "@/lib/schemas/common";
import { outOfBandPayoutBody, outOfBandPayoutResponse } from "@/lib/schemas/reconciliation";

export const dynamic = "force-dynamic";

export const POST = withUser({ roles: ["platform_admin"] }, async ({ db, req, rawBody, actor }) => {
  const key = parseWith(
    idempotencyKeyHeader,
    req.headers.get("idempotency-key") ?? undefined,
    "Idempotency-Key header",
  );
  const body = parseJsonBody(outOfBandPayoutBody, rawBody);
  const { payout, created } = await recordOutOfBandPayout(db, { ...body, requestKey: `api:${key}`, actor });
  return json(outOfBandPayoutResponse.parse(payout), created ? 201 : 200);
});
