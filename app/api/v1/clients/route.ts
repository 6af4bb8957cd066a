// GET /api/v1/clients (finance, platform_admin: keyset pages) and POST /api/v1/clients (platform_admin;
// Idempotency-Key required): a client on a plan, with its Stripe customer and subscription.
import { json, parseJsonBody, parseQuery, parseWith } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { createClient, listClients } from "@/lib/billing/clients";
import {
  clientResponse,
  createClientBody,
  idempotencyKeyHeader,
  listClientsQuery,
} from "@/lib/schemas/billing";
import { pageOf } from "@/lib/schemas/common";
import { getStripeGateway } from "@/lib/stripe/client";

export const dynamic = "force-dynamic";

export const GET = withUser({ roles: ["platform_admin", "finance"] }, async ({ db, url }) => {
  const query = parseQuery(listClientsQuery, url);
  return json(pageOf(clientResponse).parse(await listClients(db, query)));
});

export const POST = withUser({ roles: ["platform_admin"] }, async ({ db, env, req, rawBody, actor }) => {
  const createKey = parseWith(
    idempotencyKeyHeader,
    req.headers.get("idempotency-key") ?? undefined,
    "Idempotency-Key header",
  );
  const input = parseJsonBody(createClientBody, rawBody);
  const { client, created } = await createClient(db, getStripeGateway(), env, { input, createKey, actor });
  return json(
    clientResponse.parse(client),
    created ? 201 : 200,
    created ? undefined : { "idempotent-replayed": "true" },
  );
});
