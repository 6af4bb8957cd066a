// GET /api/v1/audit-log (platform_admin, finance): by entity, actor, action and time, newest first.
import { json, parseQuery } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { queryAudit } from "@/lib/audit";
import { auditPageResponse, auditQuery } from "@/lib/schemas/audit";

export const dynamic = "force-dynamic";

export const GET = withUser({ roles: ["platform_admin", "finance"] }, async ({ db, url }) => {
  const page = await queryAudit(db, parseQuery(auditQuery, url));
  return json(auditPageResponse.parse({ data: page.rows, nextCursor: page.nextCursor }));
});
