// POST /api/v1/clients/:id/plan (platform_admin): move an active client to another configured plan.
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { changeClientPlan } from "@/lib/billing/clients";
import { changePlanBody, clientResponse } from "@/lib/schemas/billing";
import { idParamsSchema } from "@/lib/schemas/common";
import { getStripeGateway } from "@/lib/stripe/client";

export const dynamic = "force-dynamic";

export const POST = withUser<{ id: string }>(
  { roles: ["platform_admin"] },
  async ({ db, env, params, rawBody, actor }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const { plan } = parseJsonBody(changePlanBody, rawBody);
    return json(
      clientResponse.parse(await changeClientPlan(db, getStripeGateway(), env, { id, plan, actor })),
    );
  },
);
