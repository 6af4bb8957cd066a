// GET /api/v1/payees/:id/statements/:year (the payee, finance, platform_admin): the annual statement; ?category=&currency= lists the ledger transactions behind one total.
import { json, parseQuery, parseWith } from "@/lib/api/respond";
import { payeeScope, withUser } from "@/lib/api/with-user";
import { notFound } from "@/lib/errors";
import { statementRequest } from "@/lib/statements/request";
import { statementParams, statementQuery } from "@/lib/schemas/statements";

export const dynamic = "force-dynamic";

export const GET = withUser<{ id: string; year: string }>(
  { roles: ["platform_admin", "finance", "payee"] },
  async ({ db, env, params, url, user }) => {
    const { id, year } = parseWith(statementParams, params, "path");
    const query = parseQuery(statementQuery, url);
    const scope = payeeScope(user);
    if (scope && scope !== id) throw notFound("payee");
    return json(
      await statementRequest(db, {
        payeeId: id,
        year,
        timeZone: env.PAYOUT_TIMEZONE,
        ...query,
        basePath: url.pathname,
      }),
    );
  },
);
