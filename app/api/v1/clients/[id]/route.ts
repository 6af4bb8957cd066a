// GET /api/v1/clients/:id (finance, platform_admin).
import { json, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { getClient } from "@/lib/billing/clients";
import { clientResponse } from "@/lib/schemas/billing";
import { idParamsSchema } from "@/lib/schemas/common";

export const dynamic = "force-dynamic";

export const GET = withUser<{ id: string }>(
  { roles: ["platform_admin", "finance"] },
  async ({ db, params }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    return json(clientResponse.parse(await getClient(db, id)));
  },
);
