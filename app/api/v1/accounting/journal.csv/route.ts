// GET /api/v1/accounting/journal.csv?from=YYYY-MM-DD&to=YYYY-MM-DD[&currency=usd] (finance,
// platform_admin; also from the ops page's signed-in session): every ledger entry effective in the
// period (days in ACCOUNTING_TIMEZONE, both included, at most 366) with its GL account, streamed as
// CSV. docs/ACCOUNTING.md.
import { journalCsv, journalFileName } from "@/lib/accounting/journal";
import { parseQuery, streamedDownload } from "@/lib/api/respond";
import { withUser } from "@/lib/api/with-user";
import { journalQuery } from "@/lib/schemas/accounting";

export const dynamic = "force-dynamic";

export const GET = withUser(
  { roles: ["finance", "platform_admin"], pageSession: true },
  async ({ db, env, url }) => {
    const query = parseQuery(journalQuery, url);
    const chunks = journalCsv(db, {
      ...query,
      timeZone: env.ACCOUNTING_TIMEZONE,
      chart: env.chartOfAccounts,
    });
    return streamedDownload(chunks, {
      contentType: "text/csv; charset=utf-8; header=present",
      fileName: journalFileName(query),
      where: "GET /api/v1/accounting/journal.csv",
    });
  },
);
