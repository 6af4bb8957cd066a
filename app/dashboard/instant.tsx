import { randomUUID } from "node:crypto";
import { Money } from "@/app/_components/money";
import { ErrorState } from "@/app/_components/states";
import { SubmitButton } from "@/app/_components/submit-button";
import type { Section } from "@/lib/dashboard/section";
import type { InstantQuote } from "@/lib/instant-payouts";
import { takeInstantPayoutAction } from "./actions";

// "Get paid now": the payee asks for a quote (a plain GET, so nothing is read from Stripe on every
// page view), sees the fee and what reaches their card, and only then confirms. The confirmation
// carries the quoted amount and fee and a key of its own: a changed fee is refused, a second press
// makes no second payout.

export function InstantPayoutPanel({ quote }: { quote: Section<InstantQuote> | null }) {
  return (
    <section className="panel" aria-labelledby="instant-heading" data-testid="instant-panel">
      <h2 id="instant-heading">Get paid now</h2>
      {quote === null ? (
        <>
          <p>
            Don't want to wait for the next payout? Take your available balance now to your debit card, for a
            fee.
          </p>
          <form method="get" action="/dashboard">
            <input type="hidden" name="instant" value="quote" />
            <button type="submit" className="secondary">
              See instant payout fee
            </button>
          </form>
        </>
      ) : !quote.ok ? (
        <ErrorState
          title="The instant payout could not be quoted."
          error={quote.error}
          hint="Try again in a minute."
        />
      ) : !quote.data.eligible ? (
        <p data-testid="instant-reason">{quote.data.reason}</p>
      ) : (
        <InstantQuoteForm quote={quote.data} />
      )}
    </section>
  );
}

function InstantQuoteForm({ quote }: { quote: InstantQuote }) {
  const card = quote.card
    ? `${quote.card.brand ?? "card"} ending ${quote.card.last4 ?? "????"}`
    : "your card";
  return (
    <>
      <dl className="kv" data-testid="instant-quote">
        <dt>Amount</dt>
        <dd data-testid="instant-amount">
          <Money cents={quote.amountCents} currency={quote.currency} />
        </dd>
        <dt>Instant payout fee</dt>
        <dd data-testid="instant-fee">
          <Money cents={quote.feeCents} currency={quote.currency} />{" "}
          <span className="muted small">
            ({quote.feePercent}%, at least <Money cents={quote.feeMinimumCents} currency={quote.currency} />)
          </span>
        </dd>
        <dt>You receive</dt>
        <dd data-testid="instant-net">
          <strong>
            <Money cents={quote.netCents} currency={quote.currency} />
          </strong>{" "}
          on {card}, usually within 30 minutes
        </dd>
      </dl>
      <form action={takeInstantPayoutAction}>
        <input type="hidden" name="currency" value={quote.currency} />
        <input type="hidden" name="amountCents" value={quote.amountCents} />
        <input type="hidden" name="expectedFeeCents" value={quote.feeCents} />
        <input type="hidden" name="requestKey" value={randomUUID()} />
        <SubmitButton pendingText="Sending…">Confirm instant payout</SubmitButton>{" "}
        <a href="/dashboard">Cancel</a>
      </form>
    </>
  );
}
