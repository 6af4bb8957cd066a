import { sql } from "drizzle-orm";
import type Stripe from "stripe";
import { type Db, queryRows } from "../../db/client";
import { type PostingInput, postLedgerTransactions } from "../ledger";
import type { StripeGateway } from "../stripe/gateway";
import { EXPANSIONS, resolveTransaction } from "./resolve";

export type IngestGateway = Pick<StripeGateway, "listBalanceTransactions" | "findInvoiceByPaymentIntent">;

/**
 * Each ingest reads again this far behind its cursor: a transaction Stripe lists a little late (its
 * `created` is when it was made, not when it became visible) is still read, and stored once.
 */
export const INGEST_OVERLAP_SECONDS = 300;

/**
 * Read an account's balance transactions from its cursor (less the overlap), resolve each to its
 * object, and store them page by page, keyed by Stripe's id. Safe to rerun and to kill at any
 * point: a page stored stays stored, a page read twice is stored once, and the cursor moves only
 * after every page is stored (Stripe lists newest first, so the cursor cannot move page by page).
 */
export async function ingestAccount(
  db: Db,
  gateway: IngestGateway,
  input: { account: string; cursorCreated: number | null; pageSize?: number },
): Promise<{ ingested: number; pages: number; cursorCreated: number | null }> {
  const stripeAccount = input.account === "platform" ? undefined : input.account;
  let ingested = 0;
  let pages = 0;
  let newest = input.cursorCreated ?? 0;
  for (let startingAfter: string | undefined; ; ) {
    const list = await gateway.listBalanceTransactions({
      stripeAccount,
      limit: input.pageSize ?? 100,
      startingAfter,
      createdGte:
        input.cursorCreated == null ? undefined : Math.max(0, input.cursorCreated - INGEST_OVERLAP_SECONDS),
      expand: EXPANSIONS,
    });
    pages++;
    if (list.data.length > 0) {
      const invoices =
        input.account === "platform"
          ? await invoicesOfCharges(gateway, list.data)
          : new Map<string, string>();
      ingested += await storeTransactions(db, input.account, list.data, invoices);
      newest = Math.max(newest, ...list.data.map((bt) => bt.created));
    }
    if (!list.has_more || list.data.length === 0) break;
    startingAfter = list.data.at(-1)!.id;
  }
  return { ingested, pages, cursorCreated: newest === 0 ? input.cursorCreated : newest };
}

/**
 * A client's invoice is paid by a charge that names neither the invoice nor a destination: the
 * ledger knows the invoice, so such a charge is looked up once, when its transaction is first read
 * (destination charges, the bulk, carry `transfer_data` and need no call).
 */
async function invoicesOfCharges(
  gateway: IngestGateway,
  page: Stripe.BalanceTransaction[],
): Promise<Map<string, string>> {
  const invoices = new Map<string, string>();
  for (const bt of page) {
    if (bt.type !== "charge" || !bt.source || typeof bt.source === "string") continue;
    const charge = bt.source as Stripe.Charge;
    if (charge.object !== "charge" || charge.transfer_data || !charge.payment_intent) continue;
    const intent =
      typeof charge.payment_intent === "string" ? charge.payment_intent : charge.payment_intent.id;
    const invoice = await gateway.findInvoiceByPaymentIntent(intent);
    if (invoice) invoices.set(bt.id, invoice);
  }
  return invoices;
}

async function storeTransactions(
  db: Db,
  account: string,
  page: Stripe.BalanceTransaction[],
  invoices: Map<string, string>,
): Promise<number> {
  const rows = page.map((bt) => {
    const resolved = resolveTransaction(bt, account, invoices.get(bt.id));
    return {
      id: bt.id,
      account,
      amount: bt.amount,
      fee: bt.fee,
      net: bt.net,
      currency: bt.currency,
      type: bt.type,
      reporting_category: bt.reporting_category ?? null,
      source: resolved.source,
      primary_object: resolved.primaryObject,
      reversed_transfer: resolved.reversedTransfer,
      scope: resolved.scope,
      status: bt.status,
      created: new Date(bt.created * 1000).toISOString(),
      available_on: bt.available_on ? new Date(bt.available_on * 1000).toISOString() : null,
    };
  });
  return db.transaction(async (tx) => {
    // A reversal of a payout's transfer belongs to that transfer, as the payout's postings record it.
    const inserted = await queryRows<{
      id: string;
      primary_object: string;
      type: string;
      fee: string;
      currency: string;
      scope: string;
      created: Date | string;
    }>(
      tx,
      sql`insert into stripe_balance_transactions (id, account, amount, fee, net, currency, type, reporting_category, source,
                                                    primary_object, scope, status, created, available_on)
          select r.id, r.account, r.amount, r.fee, r.net, r.currency, r.type, r.reporting_category, r.source,
                 case when r.reversed_transfer is not null
                           and exists (select 1 from payouts p where p.stripe_transfer_id = r.reversed_transfer)
                      then r.reversed_transfer else r.primary_object end,
                 r.scope, r.status, r.created, r.available_on
          from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(id text, account text, amount bigint, fee bigint, net bigint,
            currency text, type text, reporting_category text, source text, primary_object text, reversed_transfer text,
            scope text, status text, created timestamptz, available_on timestamptz)
          on conflict (id) do nothing
          returning id, primary_object, type, fee, currency, scope, created`,
    );
    await postProcessingFees(tx, account, inserted);
    return inserted.length;
  });
}

/**
 * Stripe's processing fee on a payment the platform received (a destination charge, a client's
 * invoice) is stated only on its balance transaction, which no webhook carries: it is posted here,
 * when the transaction is first stored, in Stripe's number, as the platform's Stripe fees. The
 * charge's own posting says what the platform kept; this one says what Stripe took of it.
 */
async function postProcessingFees(
  tx: Db,
  account: string,
  inserted: {
    id: string;
    primary_object: string;
    type: string;
    fee: string;
    currency: string;
    scope: string;
    created: Date | string;
  }[],
): Promise<void> {
  if (account !== "platform") return;
  const postings: PostingInput[] = inserted
    .filter(
      (bt) =>
        bt.scope === "payrun" && (bt.type === "charge" || bt.type === "payment") && Number(bt.fee) !== 0,
    )
    .map((bt) => {
      const fee = Number(bt.fee);
      return {
        idempotencyKey: `stripe_fee:${bt.id}`,
        kind: "stripe_processing_fee",
        description: `Stripe's processing fee on ${bt.primary_object}`,
        currency: bt.currency,
        sourceType: "balance_transaction",
        sourceId: bt.id,
        metadata: { balance_transaction: bt.id, object: bt.primary_object, fee_cents: fee },
        effectiveAt: new Date(bt.created),
        lines: [
          { kind: "stripe_fees" as const, amount: -fee },
          { kind: "stripe_clearing" as const, amount: fee },
        ],
        stripeRefs: [{ account: "platform", object: bt.primary_object, amount: -fee }],
      };
    });
  await postLedgerTransactions(tx, postings);
}
