// POST /api/v1/reconciliation/breaks/:id/resolve (platform_admin): accept an open break, saying why
// (audited). It leaves the open list; the difference itself stays on record.
import { json, parseJsonBody, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { resolveBreak } from "@/lib/reconciliation/breaks";
import { idParamsSchema } from "@/lib/schemas/common";
import { breakResponse, resolveBreakBody } from "@/lib/schemas/reconciliation";

export const dynamic = "force-dynamic";

export const POST = withUser<{ id: string }>({ roles: ["platform_admin"] }, async ({ db, params, rawBody, actor }) => {
  const { id } = parseWith(idParamsSchema, params, "path");
  const { reason } = parseJsonBody(resolveBreakBody, rawBody);
  return json(breakResponse.parse(await resolveBreak(db, { breakId: id, reason, actor })));
});
