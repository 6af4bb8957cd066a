import { Money } from "@/app/_components/money";
import { EmptyState, ErrorState } from "@/app/_components/states";
import { SubmitButton } from "@/app/_components/submit-button";
import { skipReasonText } from "@/lib/dashboard/failure-reasons";
import { formatDate, formatDateTime } from "@/lib/dashboard/format";
import type { PayeeDashboard } from "@/lib/dashboard/payee";
import { setUpPayoutsAction, updateBankDetailsAction } from "./actions";

export function BalanceCards({ balances }: { balances: PayeeDashboard["balances"] }) {
  if (!balances.ok) {
    return <ErrorState title="Your balance could not be loaded." error={balances.error} hint="Reload the page in a minute." />;
  }
  const currencies = Object.keys(balances.data).sort();
  if (currencies.length === 0) {
    return (
      <EmptyState title="No earnings yet">
        Your balance appears here as soon as you earn your first sale or placement.
      </EmptyState>
    );
  }
  return (
    <section aria-labelledby="balance-heading">
      <h2 id="balance-heading">Balance</h2>
      {currencies.map((currency) => {
        const b = balances.data[currency]!;
        return (
          <div key={currency} className="cards" data-testid={`balance-${currency}`}>
            <div className="card">
              <div className="label">Available ({currency.toUpperCase()})</div>
              <div className="value" data-testid="balance-available">
                <Money cents={b.available} currency={currency} />
              </div>
              <div className="muted small">Paid out in the next run</div>
            </div>
            <div className="card">
              <div className="label">Pending</div>
              <div className="value">
                <Money cents={b.pending} currency={currency} />
              </div>
              <div className="muted small">Clearing; becomes available after the clearing period</div>
            </div>
            <div className="card">
              <div className="label">Held</div>
              <div className="value">
                <Money cents={b.held} currency={currency} />
              </div>
              <div className="muted small">Reserved (guarantee period, dispute or reserve)</div>
            </div>
            <div className="card">
              <div className="label">On the way</div>
              <div className="value">
                <Money cents={b.in_transit} currency={currency} />
              </div>
              <div className="muted small">Sent to your bank, not arrived yet</div>
            </div>
          </div>
        );
      })}
    </section>
  );
}

export function NextPayoutPanel({ data }: { data: PayeeDashboard }) {
  const { preview, nextCycle, timeZone } = data;
  return (
    <section className="panel" aria-labelledby="next-payout-heading">
      <h2 id="next-payout-heading">Next payout</h2>
      <p>
        <strong data-testid="next-payout-date">{formatDate(nextCycle.at, timeZone)}</strong>{" "}
        <span className="muted small">(runs at {formatDateTime(nextCycle.at, timeZone)}, {timeZone})</span>
      </p>
      {!preview.ok ? (
        <ErrorState title="The expected amount could not be worked out." error={preview.error} />
      ) : preview.data.payouts.length === 0 ? (
        <p data-testid="next-payout-amount">Nothing is available to pay yet: earnings become available after clearing.</p>
      ) : (
        <ul className="plain" data-testid="next-payout-amount">
          {preview.data.payouts.map((p) => (
            <li key={p.currency}>
              {p.wouldPay ? (
                <>
                  If the run happened now you would get <Money cents={p.amountCents} currency={p.currency} />.
                </>
              ) : (
                <>
                  <Money cents={p.amountCents} currency={p.currency} /> will not be paid yet:{" "}
                  <span data-testid="next-payout-reason">{skipReasonText(p.reason)}</span>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

const ONBOARDING_TEXT = {
  not_started: "You have not set up payouts yet. Stripe collects your bank details and identity; it takes a few minutes.",
  incomplete: "Stripe still needs some details before it can pay you.",
  restricted: "Stripe has paused payouts on your account until you provide more information.",
  complete: "Payouts are set up. Money goes to the bank account on file with Stripe.",
} as const;

export function OnboardingPanel({ data }: { data: PayeeDashboard }) {
  const { account, onboarding } = data;
  return (
    <section className="panel" aria-labelledby="onboarding-heading">
      <h2 id="onboarding-heading">Bank and payouts</h2>
      {!account.ok || onboarding === null ? (
        <ErrorState title="Your Stripe status could not be loaded." error={account.ok ? undefined : account.error} />
      ) : (
        <>
          <p data-testid="onboarding-status">{ONBOARDING_TEXT[onboarding]}</p>
          {account.data && account.data.requirementsCurrentlyDue.length > 0 ? (
            <p className="muted small">Stripe needs: {account.data.requirementsCurrentlyDue.join(", ").replaceAll("_", " ")}</p>
          ) : null}
          <div className="row">
            {onboarding !== "complete" ? (
              <form action={setUpPayoutsAction}>
                <SubmitButton pendingText="Opening Stripe…">
                  {onboarding === "not_started" ? "Set up payouts" : "Continue setup"}
                </SubmitButton>
              </form>
            ) : null}
            {onboarding === "complete" || onboarding === "restricted" ? (
              <form action={updateBankDetailsAction}>
                <SubmitButton className="secondary" pendingText="Opening Stripe…">
                  Update bank details
                </SubmitButton>
              </form>
            ) : null}
          </div>
        </>
      )}
    </section>
  );
}
