// GET /api/v1/payees/:id/instant-payouts/quote?currency=usd&amountCents= (the payee themselves or platform_admin): what an instant payout would be now, fee included, or why not.
import { json, parseQuery, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { assertMayTakeInstant, quoteInstantPayout } from "@/lib/instant-payouts";
import { idParamsSchema } from "@/lib/schemas/common";
import { instantQuoteQuery, instantQuoteResponse } from "@/lib/schemas/instant-payouts";
import { getStripeGateway } from "@/lib/stripe/client";

export const dynamic = "force-dynamic";

export const GET = withUser<{ id: string }>(
  { roles: ["platform_admin", "payee"] },
  async ({ db, env, params, url, actor }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const query = parseQuery(instantQuoteQuery, url);
    assertMayTakeInstant(actor, id);
    const quote = await quoteInstantPayout(db, getStripeGateway(), env, { payeeId: id, ...query });
    return json(instantQuoteResponse.parse(quote));
  },
);
