// POST /api/v1/clients/:id/cancel (platform_admin): cancel the subscription now, or at the period's end.
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { cancelClient } from "@/lib/billing/clients";
import { cancelClientBody, clientResponse } from "@/lib/schemas/billing";
import { idParamsSchema } from "@/lib/schemas/common";
import { getStripeGateway } from "@/lib/stripe/client";

export const dynamic = "force-dynamic";

export const POST = withUser<{ id: string }>(
  { roles: ["platform_admin"] },
  async ({ db, params, rawBody, actor }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const input = parseJsonBody(cancelClientBody, rawBody);
    return json(clientResponse.parse(await cancelClient(db, getStripeGateway(), { id, ...input, actor })));
  },
);
