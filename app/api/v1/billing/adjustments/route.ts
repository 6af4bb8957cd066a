// POST /api/v1/billing/adjustments (platform_admin, Idempotency-Key): a manual charge or credit to a
// client or a payee, posted to the ledger and audited (201; a replay with the same key answers 200).
// GET (platform_admin, finance): the newest adjustments.
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { createAdjustment, listAdjustments } from "@/lib/billing/adjustments";
import {
  adjustmentResponse,
  createAdjustmentBody,
  idempotencyKeyHeader,
} from "@/lib/schemas/billing-invoices";

export const dynamic = "force-dynamic";

export const POST = withUser({ roles: ["platform_admin"] }, async ({ db, req, rawBody, actor }) => {
  const requestKey = parseWith(
    idempotencyKeyHeader,
    req.headers.get("idempotency-key") ?? undefined,
    "Idempotency-Key header",
  );
  const body = parseJsonBody(createAdjustmentBody, rawBody);
  const { adjustment, created } = await createAdjustment(db, {
    target: body.target,
    payeeId: body.payeeId ?? null,
    clientStripeCustomerId: body.clientStripeCustomerId ?? null,
    direction: body.direction,
    amountCents: body.amount,
    currency: body.currency,
    reasonCode: body.reasonCode,
    note: body.note,
    requestKey,
    actor,
  });
  return json(adjustmentResponse.parse(adjustment), created ? 201 : 200);
});

export const GET = withUser({ roles: ["platform_admin", "finance"] }, async ({ db }) => {
  return json({ data: (await listAdjustments(db)).map((a) => adjustmentResponse.parse(a)) });
});
