// GET /api/v1/payees/:id (a payee only its own: anyone else's id is a 404) and PATCH (platform_admin).
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { payeeScope, withUser } from "@/lib/api/with-user";
import { getPayee, updatePayee } from "@/lib/payees/admin-crud";
import { idParamsSchema } from "@/lib/schemas/common";
import { payeeResponse, updatePayeeBody } from "@/lib/schemas/payees";

export const dynamic = "force-dynamic";

export const GET = withUser<{ id: string }>(
  { roles: ["platform_admin", "finance", "payee"] },
  async ({ db, params, user }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const payee = await getPayee(db, { id, scopePayeeId: payeeScope(user) });
    return json(payeeResponse.parse(payee));
  },
);

export const PATCH = withUser<{ id: string }>(
  { roles: ["platform_admin"] },
  async ({ db, params, rawBody, actor }) => {
    const { id } = parseWith(idParamsSchema, params, "path");
    const input = parseJsonBody(updatePayeeBody, rawBody);
    const payee = await updatePayee(db, { id, input, actor });
    return json(payeeResponse.parse(payee));
  },
);
