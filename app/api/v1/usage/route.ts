// GET /api/v1/usage (finance, platform_admin: keyset pages by occurredAt) and POST /api/v1/usage
// (platform_admin; Idempotency-Key required): one usage record on a meter of the client's plan.
import { json, parseJsonBody, parseQuery, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { listUsage, recordUsage } from "@/lib/billing/usage";
import { idempotencyKeyHeader, listUsageQuery, recordUsageBody, usageResponse } from "@/lib/schemas/billing";
import { pageOf } from "@/lib/schemas/common";

export const dynamic = "force-dynamic";

const out = (r: Awaited<ReturnType<typeof recordUsage>>["record"]) =>
  usageResponse.parse({ ...r, meter: r.meterEventName });

export const GET = withUser({ roles: ["platform_admin", "finance"] }, async ({ db, url }) => {
  const query = parseQuery(listUsageQuery, url);
  const page = await listUsage(db, query);
  return json(
    pageOf(usageResponse).parse({ ...page, data: page.data.map((r) => ({ ...r, meter: r.meterEventName })) }),
  );
});

export const POST = withUser({ roles: ["platform_admin"] }, async ({ db, env, req, rawBody }) => {
  const idempotencyKey = parseWith(
    idempotencyKeyHeader,
    req.headers.get("idempotency-key") ?? undefined,
    "Idempotency-Key header",
  );
  const input = parseJsonBody(recordUsageBody, rawBody);
  const { record, replayed } = await recordUsage(db, env, { input, idempotencyKey });
  return json(out(record), replayed ? 200 : 201, replayed ? { "idempotent-replayed": "true" } : undefined);
});
