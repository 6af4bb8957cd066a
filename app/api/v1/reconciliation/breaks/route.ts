// GET /api/v1/reconciliation/breaks (platform_admin, finance): differences between the ledger and
// Stripe, newest first; open ones unless ?status= says otherwise; ?kind=, ?account= narrow it.
import { json, parseQuery } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { listBreaks } from "@/lib/reconciliation/breaks";
import { pageOf } from "@/lib/schemas/common";
import { breakResponse, listBreaksQuery } from "@/lib/schemas/reconciliation";

export const dynamic = "force-dynamic";

export const GET = withUser({ roles: ["platform_admin", "finance"] }, async ({ db, url }) => {
  const query = parseQuery(listBreaksQuery, url);
  return json(pageOf(breakResponse).parse(await listBreaks(db, query)));
});
