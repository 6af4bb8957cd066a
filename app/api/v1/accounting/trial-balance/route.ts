// GET /api/v1/accounting/trial-balance[?at=YYYY-MM-DD or a date-time][&currency=usd] (finance,
// platform_admin; also from the ops page's signed-in session): each GL account's balance per
// currency at a moment (a date: the close of that day in ACCOUNTING_TIMEZONE), JSON. docs/ACCOUNTING.md.
import { trialBalance } from "@/lib/accounting/trial-balance";
import { json, parseQuery } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { trialBalanceQuery, trialBalanceResponse } from "@/lib/schemas/accounting";

export const dynamic = "force-dynamic";

export const GET = withUser(
  { roles: ["finance", "platform_admin"], pageSession: true },
  async ({ db, env, url }) => {
    const query = parseQuery(trialBalanceQuery, url);
    const balance = await trialBalance(db, {
      ...query,
      timeZone: env.ACCOUNTING_TIMEZONE,
      chart: env.chartOfAccounts,
    });
    return json(trialBalanceResponse.parse(balance));
  },
);
