// POST /api/v1/payees/:id/connected-account (platform_admin): the payee's Stripe Express account, made
// on the first call (201) with a manual payout schedule; idempotent, later calls answer it again (200).
import { ensureConnectedAccount } from "@/lib/accounts";
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { idParamsSchema } from "@/lib/schemas/common";
import { connectedAccountResponse, createConnectedAccountBody } from "@/lib/schemas/payees";
import { getStripeGateway } from "@/lib/stripe/client";

export const dynamic = "force-dynamic";

export const POST = withUser<{ id: string }>({ roles: ["platform_admin"] }, async ({ db, params, rawBody, actor }) => {
  const { id } = parseWith(idParamsSchema, params, "path");
  parseJsonBody(createConnectedAccountBody, rawBody);
  const { account, created } = await ensureConnectedAccount(db, getStripeGateway(), id, actor);
  return json(connectedAccountResponse.parse(account), created ? 201 : 200);
});
