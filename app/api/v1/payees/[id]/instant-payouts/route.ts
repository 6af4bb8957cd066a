// POST /api/v1/payees/:id/instant-payouts (the payee themselves or platform_admin): take the available balance now by instant payout, with the fee the quote showed; 201 with the payout, 200 for the same requestKey again.
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { assertMayTakeInstant, requestInstantPayout } from "@/lib/instant-payouts";
import { idParamsSchema } from "@/lib/schemas/common";
import { instantPayoutBody, instantPayoutResponse } from "@/lib/schemas/instant-payouts";
import { getStripeGateway } from "@/lib/stripe/client";

export const dynamic = "force-dynamic";

export const POST = withUser<{ id: string }>(
  { roles: ["platform_admin", "payee"] },
  async ({ db, env, params, rawBody, actor }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const body = parseJsonBody(instantPayoutBody, rawBody);
    assertMayTakeInstant(actor, id);
    const { payout, created } = await requestInstantPayout(db, getStripeGateway(), env, {
      payeeId: id,
      ...body,
      actor,
    });
    return json(instantPayoutResponse.parse(payout), created ? 201 : 200);
  },
);
