// GET /api/v1/payees (list; a payee sees only itself) and POST /api/v1/payees (platform_admin).
import { json, parseJsonBody, parseQuery } from "@/lib/api/respond";
import { payeeScope, withUser } from "@/lib/api/with-user";
import { createPayee, listPayees } from "@/lib/payees/admin-crud";
import { pageOf } from "@/lib/schemas/common";
import { createPayeeBody, listPayeesQuery, payeeResponse } from "@/lib/schemas/payees";

export const dynamic = "force-dynamic";

export const GET = withUser({ roles: ["platform_admin", "finance", "payee"] }, async ({ db, url, user }) => {
  const query = parseQuery(listPayeesQuery, url);
  const page = await listPayees(db, { ...query, scopePayeeId: payeeScope(user) });
  return json(pageOf(payeeResponse).parse(page));
});

export const POST = withUser({ roles: ["platform_admin"] }, async ({ db, rawBody, actor }) => {
  const input = parseJsonBody(createPayeeBody, rawBody);
  const payee = await createPayee(db, { input, actor });
  return json(payeeResponse.parse(payee), 201);
});
