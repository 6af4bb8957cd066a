// GET /api/v1/escrow-holds (list; a payee sees its own) and POST /api/v1/escrow-holds (platform_admin).
import { json, parseJsonBody, parseQuery } from "@/lib/api/respond";
import { payeeScope, withUser } from "@/lib/api/with-user";
import { createEscrowHold, listEscrowHolds } from "@/lib/escrow/holds";
import { toHoldResponse } from "@/lib/escrow/respond";
import { pageOf } from "@/lib/schemas/common";
import { createEscrowHoldBody, escrowHoldResponse, listEscrowHoldsQuery } from "@/lib/schemas/escrow";

export const dynamic = "force-dynamic";

export const GET = withUser({ roles: ["platform_admin", "finance", "payee"] }, async ({ db, url, user }) => {
  const query = parseQuery(listEscrowHoldsQuery, url);
  const page = await listEscrowHolds(db, { ...query, scopePayeeId: payeeScope(user) });
  return json(pageOf(escrowHoldResponse).parse({ ...page, data: page.data.map(toHoldResponse) }));
});

export const POST = withUser({ roles: ["platform_admin"] }, async ({ db, rawBody, actor }) => {
  const input = parseJsonBody(createEscrowHoldBody, rawBody);
  const hold = await createEscrowHold(db, {
    ...input,
    releaseAt: input.releaseAt ? new Date(input.releaseAt) : null,
    actor,
  });
  return json(escrowHoldResponse.parse(toHoldResponse(hold)), 201);
});
