import type { Metadata } from "next";
import { ListResult } from "@/app/_components/list-result";
import { Flash } from "@/app/_components/states";
import { StatusBadge } from "@/app/_components/status-badge";
import { requirePageUser } from "@/lib/auth/session";
import { listClients } from "@/lib/billing/clients";
import { formatDate } from "@/lib/dashboard/format";
import { getEnv } from "@/lib/env";
import { listClientsQuery } from "@/lib/schemas/billing";
import { FilterForm } from "../../filters";
import { readFilteredList, type SearchParams } from "../../read-list";
import { cancelClientAction, changePlanAction } from "./actions";

export const metadata: Metadata = { title: "Clients" };
export const dynamic = "force-dynamic";

// Clients (lib/billing/clients.ts): finance reads; platform admins change a plan or cancel, each
// behind a confirmation box.
export default async function ClientsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const user = await requirePageUser(["platform_admin", "finance"], "/ops/billing/clients");
  const canAct = user.role === "platform_admin";
  const plans = Object.keys(getEnv().billingPlans);
  const status = ["creating", "active", "canceled"].find((s) => s === params.status);
  const parsed = listClientsQuery.safeParse({
    status,
    plan: params.plan || undefined,
    cursor: params.cursor || undefined,
    limit: 50,
  });
  const { invalidFilters, result } = await readFilteredList("clients", parsed, listClients);

  return (
    <>
      <h1>Clients</h1>
      <p className="muted">
        Companies billed on a plan: a Stripe customer and a subscription to the plan&apos;s prices (
        {plans.join(", ") || "no plans configured"}). Usage on metered prices is exported from{" "}
        <a href="/ops/billing/usage">Usage</a>.
      </p>
      <Flash notice={params.notice} error={params.error} />
      <FilterForm label="Filter clients">
        <label>
          Status
          <select name="status" defaultValue={status ?? ""}>
            <option value="">Any status</option>
            <option value="active">active</option>
            <option value="creating">creating</option>
            <option value="canceled">canceled</option>
          </select>
        </label>
        <label>
          Plan
          <select name="plan" defaultValue={params.plan ?? ""}>
            <option value="">Any plan</option>
            {plans.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
      </FilterForm>
      <ListResult
        invalidFilters={invalidFilters}
        result={result}
        rows={(d) => d.data}
        failedTitle="Clients could not be listed."
        failedHint="An old link? Start from the first page."
        emptyTitle="No clients"
        emptyText="Clients are created through POST /api/v1/clients (docs/BILLING.md)."
        table={{
          testId: "clients-table",
          caption: "Clients, newest first",
          rowKey: (c) => c.id,
          columns: [
            { label: "Client", cell: (c) => <span>{c.name}</span> },
            { label: "Plan", cell: (c) => c.plan },
            {
              label: "Status",
              cell: (c) => (
                <>
                  <StatusBadge status={c.status} />
                  {c.cancelAtPeriodEnd ? <span className="small"> cancels at period end</span> : null}
                </>
              ),
            },
            {
              label: "Subscription",
              className: "small",
              cell: (c) => (c.stripeSubscriptionId ? <code>{c.stripeSubscriptionId}</code> : "—"),
            },
            {
              label: "Period ends",
              cell: (c) => (c.currentPeriodEnd ? formatDate(c.currentPeriodEnd) : "—"),
            },
            { label: "Latest invoice", className: "small", cell: (c) => c.latestInvoiceStatus ?? "—" },
            { label: "Problem", className: "small", cell: (c) => c.lastPaymentError ?? c.lastError ?? "" },
            canAct && {
              label: "Actions",
              cell: (c) =>
                c.status !== "active" ? (
                  <span className="muted small">none</span>
                ) : (
                  <>
                    <form
                      action={changePlanAction}
                      className="inline-form"
                      aria-label={`Change ${c.name}'s plan`}
                    >
                      <input type="hidden" name="clientId" value={c.id} />
                      <label className="small">
                        New plan
                        <select name="plan" required defaultValue="">
                          <option value="" disabled>
                            choose
                          </option>
                          {plans
                            .filter((p) => p !== c.plan)
                            .map((p) => (
                              <option key={p} value={p}>
                                {p}
                              </option>
                            ))}
                        </select>
                      </label>
                      <label className="small">
                        <input type="checkbox" name="confirm" required /> I confirm the plan change (Stripe
                        prorates)
                      </label>
                      <button type="submit" className="small">
                        Change plan
                      </button>
                    </form>
                    <form action={cancelClientAction} className="inline-form" aria-label={`Cancel ${c.name}`}>
                      <input type="hidden" name="clientId" value={c.id} />
                      <label className="small">
                        Why?
                        <input name="reason" required minLength={3} maxLength={500} />
                      </label>
                      <label className="small">
                        <input type="checkbox" name="atPeriodEnd" /> at the end of the paid period
                      </label>
                      <label className="small">
                        <input type="checkbox" name="confirm" required /> I confirm the cancellation
                      </label>
                      <button type="submit" className="small danger">
                        Cancel subscription
                      </button>
                    </form>
                  </>
                ),
            },
          ],
        }}
        pager={(d) => ({
          basePath: "/ops/billing/clients",
          params: { status, plan: params.plan },
          cursorParam: "cursor",
          current: params.cursor,
          next: d.nextCursor,
          label: "Clients",
        })}
      />
    </>
  );
}
