import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { systemActor } from "../actor";
import { toCents } from "../money";
import { applyPayoutEvent } from "../payouts/settle";
import type { StripeGateway } from "../stripe/gateway";
import { applyInvoiceState } from "../webhooks/invoices";
import { linkOutOfBandPayouts } from "./out-of-band";

export type PayoutsGateway = Pick<StripeGateway, "retrievePayout" | "listBalanceTransactions" | "retrieveInvoice">;

const actor = systemActor("reconciliation");

/**
 * A payout on a connected account that no payout of Payrun's made (a payout_missing_transfers
 * break): say whether Stripe made it on an automatic schedule, and, for an automatic one, whether the
 * transactions it paid out include Payrun's money (Stripe lists them only for automatic payouts:
 * `?payout=` is refused for a manual one). Money Payrun still counts as the payee's on Stripe left
 * with it; a manual one was made by hand in the Dashboard.
 */
export async function describeForeignPayouts(db: Db, gateway: PayoutsGateway, account: string): Promise<number> {
  const undescribed = await queryRows<{ id: string; stripe_object: string }>(
    db,
    sql`select id, stripe_object from reconciliation_breaks
        where account = ${account} and kind = 'payout_missing_transfers' and status = 'open' and not (details ? 'automatic')`,
  );
  for (const b of undescribed) {
    const payout = await gateway.retrievePayout(account, b.stripe_object);
    let carried: string[] = [];
    if (payout.automatic) {
      const list = await gateway.listBalanceTransactions({ stripeAccount: account, payout: payout.id, limit: 100 });
      const sources = list.data.filter((bt) => bt.type !== "payout").map((bt) => bt.id);
      const payrun = await queryRows<{ id: string }>(
        db,
        sql`select b.id from stripe_balance_transactions b
            where b.id in (select jsonb_array_elements_text(${JSON.stringify(sources)}::jsonb))
              and exists (select 1 from ledger_stripe_refs r where r.stripe_object = b.primary_object and r.stripe_account = b.account)`,
      );
      carried = payrun.map((r) => r.id);
    }
    await db.execute(sql`
      update reconciliation_breaks set details = details || ${JSON.stringify({
        automatic: payout.automatic,
        method: payout.method,
        carriesPayrunMoney: carried.length > 0,
        payrunTransactions: carried,
        arrivalDate: payout.arrival_date,
      })}::jsonb
      where id = ${b.id}`);
  }
  return undescribed.length;
}

/**
 * Settlement Payrun missed (a webhook lost for good): payouts of this account still in transit past
 * their arrival date, and placement invoices still open past their due date, are read from Stripe and
 * settled as their webhook would have settled them. Idempotent: settling twice changes nothing.
 */
export async function backfillSettlements(db: Db, gateway: PayoutsGateway, account: string): Promise<number> {
  let settled = 0;
  if (account !== "platform") {
    const late = await queryRows<{ id: string; stripe_payout_id: string }>(
      db,
      sql`select id, stripe_payout_id from payouts
          where stripe_account_id = ${account} and status = 'in_transit' and stripe_payout_id is not null
            and coalesce(arrival_date, created_at + interval '2 days') < now() - interval '1 day'
          order by created_at limit 50`,
    );
    for (const p of late) {
      const payout = await gateway.retrievePayout(account, p.stripe_payout_id);
      if (payout.status !== "paid" && payout.status !== "failed" && payout.status !== "canceled") continue;
      const result = await applyPayoutEvent(db, {
        outcome: payout.status,
        stripePayoutId: payout.id,
        payoutId: p.id,
        failureCode: payout.failure_code ?? null,
        failureMessage: payout.failure_message ?? null,
        eventId: `reconciliation:${payout.id}`,
        occurredAt: new Date((payout.status === "paid" ? payout.arrival_date : payout.created) * 1000),
        arrivalDate: new Date(payout.arrival_date * 1000),
      });
      if (result.result === "applied") settled++;
    }
    return settled;
  }
  const open = await queryRows<{ stripe_invoice_id: string }>(
    db,
    sql`select stripe_invoice_id from placement_invoices
        where status = 'open' and stripe_invoice_id is not null and coalesce(finalized_at, created_at) < now() - interval '1 day'
        order by created_at limit 50`,
  );
  for (const inv of open) {
    const invoice = await gateway.retrieveInvoice(inv.stripe_invoice_id);
    const status = invoice.status === "paid" ? "paid" : invoice.status === "void" ? "void" : invoice.status === "uncollectible" ? "uncollectible" : null;
    if (!status) continue;
    const at = invoice.status_transitions?.paid_at ?? invoice.status_transitions?.voided_at ?? invoice.status_transitions?.marked_uncollectible_at ?? invoice.created;
    const result = await applyInvoiceState(db, { stripeInvoiceId: invoice.id!, status, occurredAt: new Date(at * 1000) }, { actor });
    if (result.outcome === "updated") settled++;
  }
  return settled;
}

/** Out-of-band payouts recorded without a Stripe id are linked to the Stripe payout they match. */
export async function linkPayoutsMadeByHand(db: Db, account: string): Promise<number> {
  if (account === "platform") return 0;
  return linkOutOfBandPayouts(db, account);
}

/** Payouts missing transfers in the last 24 h (the stripe_payout_missing_transfers metric). */
export async function payoutsMissingTransfers(db: Db): Promise<{ last24h: number; payouts: { account: string; payout: string; amount: number; currency: string }[] }> {
  const rows = await queryRows<{ account: string; stripe_object: string; stripe_amount: string; currency: string }>(
    db,
    sql`select account, stripe_object, stripe_amount, currency from reconciliation_breaks
        where kind = 'payout_missing_transfers' and first_seen_at > now() - interval '24 hours' and status <> 'closed'
        order by first_seen_at`,
  );
  return {
    last24h: rows.length,
    payouts: rows.map((r) => ({ account: r.account, payout: r.stripe_object, amount: -toCents(r.stripe_amount), currency: r.currency })),
  };
}
