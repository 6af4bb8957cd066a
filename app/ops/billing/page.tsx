import { randomUUID } from "node:crypto";
import type { Metadata } from "next";
import { Money } from "@/app/_components/money";
import { Flash } from "@/app/_components/states";
import { StatusBadge } from "@/app/_components/status-badge";
import { SubmitButton } from "@/app/_components/submit-button";
import { getDb } from "@/db/client";
import { requirePageUser } from "@/lib/auth/session";
import { adjustmentReasons, listAdjustments } from "@/lib/billing/adjustments";
import { type InvoiceView, listBillableInvoices, refundReasons } from "@/lib/billing/invoices";
import { formatDate } from "@/lib/dashboard/format";
import { getEnv } from "@/lib/env";
import type { SearchParams } from "../read-list";
import { captureInvoiceAction, createAdjustmentAction, refundInvoiceAction } from "./actions";

export const metadata: Metadata = { title: "Billing" };
export const dynamic = "force-dynamic";

const LABELS: Record<string, string> = {
  created: "Created",
  finalized: "Finalized",
  authorised: "Card authorised",
  captured: "Captured",
  partly_refunded: "Partly refunded",
  refunded: "Refunded in full",
  paid: "Paid",
  voided: "Voided",
  settled: "Funds available (settled)",
};

function Timeline({ invoice }: { invoice: InvoiceView }) {
  if (invoice.timeline.length === 0) return <p className="muted small">Nothing recorded yet.</p>;
  return (
    <ol className="timeline small" data-testid={`timeline-${invoice.id}`}>
      {invoice.timeline.map((e) => (
        <li key={`${e.kind}-${e.sourceId}`}>
          <strong>{LABELS[e.label] ?? e.label}</strong> {formatDate(e.occurredAt)}
          {e.amountCents !== null && e.currency ? (
            <>
              {" "}
              <Money cents={e.amountCents} currency={e.currency} />
            </>
          ) : null}{" "}
          <code className="muted">
            {Object.values(e.stripeIds)
              .filter((id) => id !== invoice.stripeInvoiceId)
              .join(" ") || e.sourceId}
          </code>
        </li>
      ))}
    </ol>
  );
}

function InvoiceActions({ invoice }: { invoice: InvoiceView }) {
  const money = (cents: number) => `${(cents / 100).toFixed(2)} ${invoice.currency.toUpperCase()}`;
  return (
    <div className="stacked-form">
      {invoice.capturableCents > 0 ? (
        <form
          action={captureInvoiceAction}
          className="inline-form"
          aria-label={`Capture invoice ${invoice.stripeInvoiceId}`}
        >
          <input type="hidden" name="invoiceId" value={invoice.id} />
          <input type="hidden" name="requestKey" value={randomUUID()} />
          <label className="small">
            Amount to capture (empty: all {money(invoice.capturableCents)})
            <input
              name="amount"
              inputMode="decimal"
              placeholder={(invoice.capturableCents / 100).toFixed(2)}
            />
          </label>
          <SubmitButton
            pendingText="Capturing…"
            confirm={`Capture the client's authorised payment on invoice ${invoice.stripeInvoiceId}? Anything not captured is released to the client and cannot be captured later.`}
          >
            Capture
          </SubmitButton>
        </form>
      ) : null}
      {invoice.refundableCents > 0 ? (
        <form
          action={refundInvoiceAction}
          className="inline-form"
          aria-label={`Refund invoice ${invoice.stripeInvoiceId}`}
        >
          <input type="hidden" name="invoiceId" value={invoice.id} />
          <input type="hidden" name="requestKey" value={randomUUID()} />
          <label className="small">
            Amount to refund (empty: all {money(invoice.refundableCents)})
            <input
              name="amount"
              inputMode="decimal"
              placeholder={(invoice.refundableCents / 100).toFixed(2)}
            />
          </label>
          <label className="small">
            Reason
            <select name="reasonCode" defaultValue="client_request">
              {refundReasons.map((r) => (
                <option key={r.code} value={r.code}>
                  {r.label}
                </option>
              ))}
            </select>
          </label>
          <label className="small">
            Note
            <input name="note" maxLength={500} />
          </label>
          <SubmitButton
            className="danger"
            pendingText="Refunding…"
            confirm={`Refund the client on invoice ${invoice.stripeInvoiceId}? The money goes back to the client's card and cannot be taken again.`}
          >
            Refund
          </SubmitButton>
        </form>
      ) : null}
    </div>
  );
}

export default async function BillingPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const user = await requirePageUser(["platform_admin", "finance"], "/ops/billing");
  const canAct = user.role === "platform_admin";
  const db = await getDb();
  const stage = getEnv().BILLING_ROLLOUT_STAGE;
  const invoices = await listBillableInvoices(db, 50);
  const adjustments = await listAdjustments(db, 50);

  return (
    <>
      <h1>Billing</h1>
      <p className="muted">
        Client invoices with their payments as Stripe reports them: card authorised, captured (in full or in
        part: the rest of the hold is released), refunded, paid, settled. Rollout stage:{" "}
        <strong data-testid="rollout-stage">{stage}</strong>
        {stage === "pilot"
          ? " (capture and refund for pilot clients only)"
          : stage === "off"
            ? " (capture and refund are switched off)"
            : ""}
        .
      </p>
      <Flash notice={params.notice} error={params.error} />

      <section aria-labelledby="invoices">
        <h2 id="invoices">Invoices</h2>
        {invoices.length === 0 ? (
          <p className="muted" data-testid="no-invoices">
            No invoices at Stripe yet.
          </p>
        ) : (
          <table className="data-table" data-testid="invoices-table">
            <thead>
              <tr>
                <th>Invoice</th>
                <th>Client</th>
                <th>Status</th>
                <th>Amount</th>
                <th>Authorised</th>
                <th>Captured</th>
                <th>Refunded</th>
                <th>Settled</th>
                <th>Timeline</th>
                {canAct ? <th>Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {invoices.map((inv) => (
                <tr key={inv.id} data-invoice={inv.stripeInvoiceId ?? inv.id}>
                  <td>
                    <code>{inv.stripeInvoiceId}</code>
                    {inv.billingPilot ? <span className="muted small"> pilot</span> : null}
                    <br />
                    <a className="small" href={`/api/v1/billing/invoices/${inv.id}/pdf`}>
                      PDF
                    </a>
                  </td>
                  <td>{inv.clientName ?? inv.clientStripeCustomerId}</td>
                  <td>
                    <StatusBadge status={inv.status} />
                  </td>
                  <td>
                    <Money cents={inv.amountCents} currency={inv.currency} />
                  </td>
                  <td>
                    <Money cents={inv.authorisedCents} currency={inv.currency} />
                  </td>
                  <td data-testid="captured">
                    <Money cents={inv.capturedCents} currency={inv.currency} />
                  </td>
                  <td data-testid="refunded">
                    <Money cents={inv.refundedCents} currency={inv.currency} />
                  </td>
                  <td>{inv.settledAt ? formatDate(inv.settledAt) : "—"}</td>
                  <td>
                    <Timeline invoice={inv} />
                  </td>
                  {canAct ? (
                    <td>
                      <InvoiceActions invoice={inv} />
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="adjustments">
        <h2 id="adjustments">Adjustments</h2>
        <p className="muted small">
          A manual charge or credit to a client or a payee, posted to the ledger with a reason code. Reasons:{" "}
          {adjustmentReasons.map((r) => r.code).join(", ")}.
        </p>
        {adjustments.length === 0 ? (
          <p className="muted" data-testid="no-adjustments">
            No adjustments yet.
          </p>
        ) : (
          <table className="data-table" data-testid="adjustments-table">
            <thead>
              <tr>
                <th>When</th>
                <th>Who</th>
                <th>Charge / credit</th>
                <th>Amount</th>
                <th>Reason</th>
                <th>Note</th>
              </tr>
            </thead>
            <tbody>
              {adjustments.map((a) => (
                <tr key={a.id}>
                  <td>{formatDate(a.createdAt)}</td>
                  <td>
                    {a.target} <code>{a.payeeId ?? a.clientStripeCustomerId}</code>
                  </td>
                  <td>{a.direction}</td>
                  <td>
                    <Money cents={a.amountCents} currency={a.currency} />
                  </td>
                  <td>{a.reasonCode}</td>
                  <td>{a.note}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {canAct ? (
          <form action={createAdjustmentAction} className="stacked-form" aria-label="Post an adjustment">
            <input type="hidden" name="requestKey" value={randomUUID()} />
            <label>
              To
              <select name="target" defaultValue="payee">
                <option value="payee">Payee</option>
                <option value="client">Client</option>
              </select>
            </label>
            <label>
              Payee id, or client&apos;s Stripe customer id (cus_…)
              <input name="party" required />
            </label>
            <label>
              Charge or credit
              <select name="direction" defaultValue="credit">
                <option value="credit">Credit</option>
                <option value="charge">Charge</option>
              </select>
            </label>
            <label>
              Amount
              <input name="amount" inputMode="decimal" placeholder="45.00" required />
            </label>
            <label>
              Currency
              <input name="currency" defaultValue="usd" required />
            </label>
            <label>
              Reason
              <select name="reasonCode">
                {adjustmentReasons.map((r) => (
                  <option key={r.code} value={r.code}>
                    {r.label} ({r.appliesTo.join(", ")})
                  </option>
                ))}
              </select>
            </label>
            <label>
              Note
              <input name="note" maxLength={500} required />
            </label>
            <SubmitButton pendingText="Posting…" confirm="Post this adjustment to the ledger?">
              Post adjustment
            </SubmitButton>
          </form>
        ) : null}
      </section>
    </>
  );
}
