// GET /api/v1/audit-log (platform_admin, finance): by entity, actor, action and time, newest first.
import { json, parseQuery } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { queryAudit } from "@/lib/audit";
import { auditPageResponse, auditQuery } from "@/lib/schemas/audit";

export const dynamic = "force-dynamic";

export const GET = withUser({ roles: ["platform_admin", "finance"] }, async ({ db, url }) => {
  const q = parseQuery(auditQuery, url);
  const page = await queryAudit(db, {
    ...q,
    before: q.cursor,
    from: q.from ? new Date(q.from) : undefined,
    to: q.to ? new Date(q.to) : undefined,
  });
  return json(auditPageResponse.parse({ data: page.rows, nextCursor: page.nextCursor }));
});
