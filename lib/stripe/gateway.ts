import type Stripe from "stripe";
import { type CallPolicy, callStripe as callWith } from "./call";

// Payrun's typed Stripe operations, and the one type every module takes (a Pick of it where a
// module needs less). Every write takes the caller's idempotency key, so a retry repeats the same
// Stripe request instead of making a second one. Every call goes through lib/stripe/call.ts under
// the gateway's policy (paced by the limiter, retried there and only there); a failure comes back as
// a StripeGatewayError saying whether to retry.

/** Stripe's test card used for destination charges unless the caller names another payment method. */
export const DEFAULT_TEST_PAYMENT_METHOD = "pm_card_visa";

type Metadata = Record<string, string>;

export interface CreateExpressAccountInput {
  email: string;
  country: string;
  payeeId: string;
  idempotencyKey: string;
}

export interface CreateAccountLinkInput {
  account: string;
  refreshUrl: string;
  returnUrl: string;
  idempotencyKey: string;
}

export interface CreateTransferInput {
  amount: number;
  currency: string;
  destination: string;
  transferGroup?: string;
  metadata?: Metadata;
  description?: string;
  idempotencyKey: string;
}

export interface ListTransfersInput {
  /** Transfers made on a connected account (account debits) instead of the platform's. */
  stripeAccount?: string;
  transferGroup?: string;
  destination?: string;
  limit?: number;
  startingAfter?: string;
}

export interface CreateTransferReversalInput {
  transferId: string;
  amount?: number;
  metadata?: Metadata;
  idempotencyKey: string;
}

export interface CreatePayoutInput {
  stripeAccount: string;
  amount: number;
  currency: string;
  metadata?: Metadata;
  description?: string;
  /** Stripe's payout method; unset is `standard`. `instant` goes to an eligible debit card (or bank). */
  method?: "standard" | "instant";
  idempotencyKey: string;
}

/**
 * An account debit: a transfer made on the connected account (Stripe-Account header) to the
 * platform's own account, taking money the platform is owed (an instant payout's fee).
 */
export interface CreateAccountDebitInput {
  stripeAccount: string;
  /** The platform's account id (acct_...), the transfer's destination. */
  platformAccount: string;
  amount: number;
  currency: string;
  transferGroup?: string;
  metadata?: Metadata;
  description?: string;
  idempotencyKey: string;
}

export interface ListPayoutsInput {
  stripeAccount: string;
  limit?: number;
  startingAfter?: string;
  status?: "pending" | "in_transit" | "paid" | "failed" | "canceled";
}

export interface ListBalanceTransactionsInput {
  stripeAccount?: string;
  limit?: number;
  startingAfter?: string;
  type?: string;
  /** Unix seconds: only transactions created at or after. */
  createdGte?: number;
  /** An automatic payout's transactions (Stripe refuses it for a manual payout). */
  payout?: string;
  expand?: string[];
}

export interface CreateDestinationChargeInput {
  amount: number;
  currency: string;
  destination: string;
  applicationFeeAmount: number;
  customer?: string;
  metadata?: Metadata;
  description?: string;
  transferGroup?: string;
  /** A Stripe test payment method; defaults to pm_card_visa. */
  paymentMethod?: string;
  idempotencyKey: string;
}

export type CreateRefundInput = (
  | { paymentIntent: string; charge?: undefined }
  | { charge: string; paymentIntent?: undefined }
) & {
  amount?: number;
  /** Take the refunded share back from the connected account (destination charges). */
  reverseTransfer?: boolean;
  refundApplicationFee?: boolean;
  metadata?: Metadata;
  idempotencyKey: string;
};

/** A card authorisation for an invoice: a PaymentIntent with capture_method=manual, confirmed at once. */
export interface CreateAuthorisationInput {
  amount: number;
  currency: string;
  customer: string;
  /** A Stripe test payment method (the client's saved card); defaults to pm_card_visa. */
  paymentMethod?: string;
  description?: string;
  metadata?: Metadata;
  idempotencyKey: string;
}

export interface CapturePaymentIntentInput {
  paymentIntent: string;
  /** Omitted: the whole amount_capturable. */
  amountToCapture?: number;
  idempotencyKey: string;
}

export interface CreateCustomerInput {
  email: string;
  name: string;
  metadata?: Metadata;
  idempotencyKey: string;
}

export interface CreateInvoiceItemInput {
  customer: string;
  amount: number;
  currency: string;
  description: string;
  invoice?: string;
  metadata?: Metadata;
  idempotencyKey: string;
}

export interface CreateInvoiceInput {
  customer: string;
  collectionMethod: "send_invoice" | "charge_automatically";
  daysUntilDue?: number;
  metadata?: Metadata;
  description?: string;
  /** Pull the customer's pending invoice items onto this invoice (Stripe's default is to leave them). */
  includePendingItems?: boolean;
  idempotencyKey: string;
}

export interface ListInvoicesInput {
  customer?: string;
  status?: Stripe.InvoiceListParams.Status;
  limit?: number;
  startingAfter?: string;
}

export interface CreateMeterEventInput {
  eventName: string;
  customer: string;
  value: number;
  identifier: string;
  /** Unix seconds; defaults to now at Stripe. */
  timestamp?: number;
  idempotencyKey: string;
}

export interface CreateSubscriptionInput {
  customer: string;
  /** The plan's prices: the base (licensed, quantity 1) and its metered ones (no quantity). */
  prices: string[];
  /** send_invoice: Stripe emails an invoice due in `daysUntilDue` days (B2B clients pay by transfer). */
  daysUntilDue: number;
  metadata?: Metadata;
  idempotencyKey: string;
}

export interface ChangeSubscriptionPricesInput {
  subscription: string;
  /** The items to remove (the old plan's). */
  removeItems: string[];
  /** The prices to add (the new plan's). */
  addPrices: string[];
  metadata?: Metadata;
  idempotencyKey: string;
}

export interface ListEventsInput {
  createdGte?: number;
  createdLte?: number;
  types?: string[];
  limit?: number;
  startingAfter?: string;
  /** Events of a connected account instead of the platform's. */
  stripeAccount?: string;
}

function requestOptions(idempotencyKey: string, stripeAccount?: string): Stripe.RequestOptions {
  if (typeof idempotencyKey !== "string" || idempotencyKey.length === 0 || idempotencyKey.length > 255)
    throw new TypeError("idempotencyKey must be a non-empty string of at most 255 characters");
  return stripeAccount ? { idempotencyKey, stripeAccount } : { idempotencyKey };
}

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function createStripeGateway(stripe: Stripe, policy: CallPolicy = { maxRetries: 3 }) {
  const callStripe = <T>(operation: string, call: () => Promise<T>) => callWith(operation, call, policy);
  return {
    stripe,
    policy,

    /** The same gateway under another policy (a run slice: its deadline, its retry count and tally). */
    withPolicy: (overrides: Partial<CallPolicy>) => createStripeGateway(stripe, { ...policy, ...overrides }),

    // Connected accounts

    createExpressAccount: ({
      email,
      country,
      payeeId,
      idempotencyKey,
    }: CreateExpressAccountInput): Promise<Stripe.Account> =>
      callStripe("accounts.create", () =>
        stripe.accounts.create(
          {
            type: "express",
            email,
            country,
            // Destination charges need `transfers`; `card_payments` is what makes Stripe report
            // charges_enabled, which the payout run's eligibility rule requires.
            capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
            settings: { payouts: { schedule: { interval: "manual" } } },
            metadata: { payee_id: payeeId },
          },
          requestOptions(idempotencyKey),
        ),
      ),

    /** Payrun decides when money leaves: Stripe must never sweep a payee's balance on its own schedule. */
    setManualPayoutSchedule: (accountId: string, idempotencyKey: string): Promise<Stripe.Account> =>
      callStripe("accounts.update", () =>
        stripe.accounts.update(
          accountId,
          { settings: { payouts: { schedule: { interval: "manual" } } } },
          requestOptions(idempotencyKey),
        ),
      ),

    retrieveAccount: (id: string): Promise<Stripe.Account> =>
      callStripe("accounts.retrieve", () => stripe.accounts.retrieve(id)),

    /** The platform's own account (its id is an account debit's destination). */
    retrievePlatformAccount: (): Promise<Stripe.Account> =>
      callStripe("accounts.retrieveCurrent", () => stripe.accounts.retrieveCurrent()),

    /** A connected account's bank accounts and debit cards; `available_payout_methods` says which take instant payouts. */
    listExternalAccounts: (stripeAccount: string): Promise<Stripe.ApiList<Stripe.BankAccount | Stripe.Card>> =>
      callStripe("accounts.listExternalAccounts", () =>
        stripe.accounts.listExternalAccounts(stripeAccount, { limit: 10 }),
      ),

    createAccountLink: ({
      account,
      refreshUrl,
      returnUrl,
      idempotencyKey,
    }: CreateAccountLinkInput): Promise<Stripe.AccountLink> =>
      callStripe("accountLinks.create", () =>
        stripe.accountLinks.create(
          { account, refresh_url: refreshUrl, return_url: returnUrl, type: "account_onboarding" },
          requestOptions(idempotencyKey),
        ),
      ),

    createLoginLink: (account: string, idempotencyKey: string): Promise<Stripe.LoginLink> =>
      callStripe("accounts.createLoginLink", () =>
        stripe.accounts.createLoginLink(account, {}, requestOptions(idempotencyKey)),
      ),

    // Transfers

    createTransfer: (input: CreateTransferInput): Promise<Stripe.Transfer> =>
      callStripe("transfers.create", () =>
        stripe.transfers.create(
          compact({
            amount: input.amount,
            currency: input.currency,
            destination: input.destination,
            transfer_group: input.transferGroup,
            metadata: input.metadata,
            description: input.description,
          }),
          requestOptions(input.idempotencyKey),
        ),
      ),

    listTransfers: (input: ListTransfersInput = {}): Promise<Stripe.ApiList<Stripe.Transfer>> =>
      callStripe("transfers.list", () =>
        stripe.transfers.list(
          compact({
            transfer_group: input.transferGroup,
            destination: input.destination,
            limit: input.limit,
            starting_after: input.startingAfter,
          }),
          input.stripeAccount ? { stripeAccount: input.stripeAccount } : {},
        ),
      ),

    createAccountDebit: (input: CreateAccountDebitInput): Promise<Stripe.Transfer> =>
      callStripe("transfers.create", () =>
        stripe.transfers.create(
          compact({
            amount: input.amount,
            currency: input.currency,
            destination: input.platformAccount,
            transfer_group: input.transferGroup,
            metadata: input.metadata,
            description: input.description,
          }),
          requestOptions(input.idempotencyKey, input.stripeAccount),
        ),
      ),

    createTransferReversal: ({
      transferId,
      amount,
      metadata,
      idempotencyKey,
    }: CreateTransferReversalInput): Promise<Stripe.TransferReversal> =>
      callStripe("transfers.createReversal", () =>
        stripe.transfers.createReversal(
          transferId,
          compact({ amount, metadata }),
          requestOptions(idempotencyKey),
        ),
      ),

    // Payouts (on the connected account: Stripe-Account header)

    createPayout: (input: CreatePayoutInput): Promise<Stripe.Payout> =>
      callStripe("payouts.create", () =>
        stripe.payouts.create(
          compact({
            amount: input.amount,
            currency: input.currency,
            metadata: input.metadata,
            description: input.description,
            method: input.method,
          }),
          requestOptions(input.idempotencyKey, input.stripeAccount),
        ),
      ),

    retrievePayout: (stripeAccount: string, payoutId: string): Promise<Stripe.Payout> =>
      callStripe("payouts.retrieve", () => stripe.payouts.retrieve(payoutId, {}, { stripeAccount })),

    listPayouts: (input: ListPayoutsInput): Promise<Stripe.ApiList<Stripe.Payout>> =>
      callStripe("payouts.list", () =>
        stripe.payouts.list(
          compact({ limit: input.limit, starting_after: input.startingAfter, status: input.status }),
          {
            stripeAccount: input.stripeAccount,
          },
        ),
      ),

    cancelPayout: (stripeAccount: string, payoutId: string, idempotencyKey: string): Promise<Stripe.Payout> =>
      callStripe("payouts.cancel", () =>
        stripe.payouts.cancel(payoutId, {}, requestOptions(idempotencyKey, stripeAccount)),
      ),

    // Balances

    retrieveBalance: (stripeAccount?: string): Promise<Stripe.Balance> =>
      callStripe("balance.retrieve", () =>
        stripe.balance.retrieve({}, stripeAccount ? { stripeAccount } : {}),
      ),

    listBalanceTransactions: (
      input: ListBalanceTransactionsInput = {},
    ): Promise<Stripe.ApiList<Stripe.BalanceTransaction>> =>
      callStripe("balanceTransactions.list", () =>
        stripe.balanceTransactions.list(
          compact({
            limit: input.limit,
            starting_after: input.startingAfter,
            type: input.type,
            created: input.createdGte !== undefined ? { gte: input.createdGte } : undefined,
            payout: input.payout,
            expand: input.expand,
          }),
          input.stripeAccount ? { stripeAccount: input.stripeAccount } : {},
        ),
      ),

    /** The invoice a PaymentIntent paid: since API 2025-03-31 only an InvoicePayment links them. */
    findInvoiceByPaymentIntent: async (paymentIntentId: string): Promise<string | null> => {
      const list = await callStripe("invoicePayments.list", () =>
        stripe.invoicePayments.list({
          payment: { type: "payment_intent", payment_intent: paymentIntentId },
          limit: 1,
        }),
      );
      const invoice = list.data[0]?.invoice;
      return typeof invoice === "string" ? invoice : (invoice?.id ?? null);
    },

    // Payments: destination charges, refunds, disputes

    /** A confirmed PaymentIntent whose funds go to `destination`, minus Payrun's application fee. */
    createDestinationCharge: (input: CreateDestinationChargeInput): Promise<Stripe.PaymentIntent> =>
      callStripe("paymentIntents.create", () =>
        stripe.paymentIntents.create(
          compact({
            amount: input.amount,
            currency: input.currency,
            payment_method: input.paymentMethod ?? DEFAULT_TEST_PAYMENT_METHOD,
            payment_method_types: ["card"],
            confirm: true,
            transfer_data: { destination: input.destination },
            application_fee_amount: input.applicationFeeAmount,
            customer: input.customer,
            metadata: input.metadata,
            description: input.description,
            transfer_group: input.transferGroup,
          }),
          requestOptions(input.idempotencyKey),
        ),
      ),

    /** Authorise (hold) the client's card for an invoice: capture later with capturePaymentIntent. */
    createAuthorisation: (input: CreateAuthorisationInput): Promise<Stripe.PaymentIntent> =>
      callStripe("paymentIntents.create", () =>
        stripe.paymentIntents.create(
          compact({
            amount: input.amount,
            currency: input.currency,
            customer: input.customer,
            payment_method: input.paymentMethod ?? DEFAULT_TEST_PAYMENT_METHOD,
            payment_method_types: ["card"],
            capture_method: "manual" as const,
            confirm: true,
            off_session: true,
            description: input.description,
            metadata: input.metadata,
          }),
          requestOptions(input.idempotencyKey),
        ),
      ),

    /**
     * Capture an authorised PaymentIntent in full or in part; the rest of the authorisation is
     * released. The answer has the charge and its balance transaction expanded (Stripe's amounts).
     */
    capturePaymentIntent: (input: CapturePaymentIntentInput): Promise<Stripe.PaymentIntent> =>
      callStripe("paymentIntents.capture", () =>
        stripe.paymentIntents.capture(
          input.paymentIntent,
          compact({ amount_to_capture: input.amountToCapture, expand: ["latest_charge.balance_transaction"] }),
          requestOptions(input.idempotencyKey),
        ),
      ),

    /** A charge with its balance transaction expanded: what Stripe booked for it, and when it settles. */
    retrieveChargeWithBalance: (id: string): Promise<Stripe.Charge> =>
      callStripe("charges.retrieve", () => stripe.charges.retrieve(id, { expand: ["balance_transaction"] })),

    retrievePaymentIntent: (id: string, expand: string[] = []): Promise<Stripe.PaymentIntent> =>
      callStripe("paymentIntents.retrieve", () =>
        stripe.paymentIntents.retrieve(id, expand.length ? { expand } : {}),
      ),

    retrieveCharge: (id: string): Promise<Stripe.Charge> =>
      callStripe("charges.retrieve", () => stripe.charges.retrieve(id)),

    /** A charge's refunds, with each one's transfer reversal (what it took back from the connected account). */
    listRefunds: (input: {
      charge: string;
      limit?: number;
      startingAfter?: string;
    }): Promise<Stripe.ApiList<Stripe.Refund>> =>
      callStripe("refunds.list", () =>
        stripe.refunds.list(
          compact({
            charge: input.charge,
            limit: input.limit ?? 100,
            starting_after: input.startingAfter,
            expand: ["data.transfer_reversal"],
          }),
        ),
      ),

    retrieveRefund: (id: string): Promise<Stripe.Refund> =>
      callStripe("refunds.retrieve", () => stripe.refunds.retrieve(id, { expand: ["transfer_reversal"] })),

    /** The reversals of a transfer (each says the refund it came with, if any). */
    listTransferReversals: (
      transferId: string,
      startingAfter?: string,
    ): Promise<Stripe.ApiList<Stripe.TransferReversal>> =>
      callStripe("transfers.listReversals", () =>
        stripe.transfers.listReversals(transferId, compact({ limit: 100, starting_after: startingAfter })),
      ),

    /** The refunds of an application fee (fee refunds), newest first. */
    listApplicationFeeRefunds: (
      feeId: string,
      startingAfter?: string,
    ): Promise<Stripe.ApiList<Stripe.FeeRefund>> =>
      callStripe("applicationFees.listRefunds", () =>
        stripe.applicationFees.listRefunds(feeId, compact({ limit: 100, starting_after: startingAfter })),
      ),

    createRefund: (input: CreateRefundInput): Promise<Stripe.Refund> =>
      callStripe("refunds.create", () =>
        stripe.refunds.create(
          compact({
            payment_intent: input.paymentIntent,
            charge: input.charge,
            amount: input.amount,
            reverse_transfer: input.reverseTransfer,
            refund_application_fee: input.refundApplicationFee,
            metadata: input.metadata,
          }),
          requestOptions(input.idempotencyKey),
        ),
      ),

    retrieveDispute: (id: string): Promise<Stripe.Dispute> =>
      callStripe("disputes.retrieve", () => stripe.disputes.retrieve(id)),

    /** Accepts the dispute (Stripe's "close"): the disputed amount is lost. */
    closeDispute: (id: string, idempotencyKey: string): Promise<Stripe.Dispute> =>
      callStripe("disputes.close", () => stripe.disputes.close(id, {}, requestOptions(idempotencyKey))),

    // Billing: customers, invoices, metered usage

    createCustomer: ({
      email,
      name,
      metadata,
      idempotencyKey,
    }: CreateCustomerInput): Promise<Stripe.Customer> =>
      callStripe("customers.create", () =>
        stripe.customers.create(compact({ email, name, metadata }), requestOptions(idempotencyKey)),
      ),

    createInvoiceItem: (input: CreateInvoiceItemInput): Promise<Stripe.InvoiceItem> =>
      callStripe("invoiceItems.create", () =>
        stripe.invoiceItems.create(
          compact({
            customer: input.customer,
            amount: input.amount,
            currency: input.currency,
            description: input.description,
            invoice: input.invoice,
            metadata: input.metadata,
          }),
          requestOptions(input.idempotencyKey),
        ),
      ),

    createInvoice: (input: CreateInvoiceInput): Promise<Stripe.Invoice> =>
      callStripe("invoices.create", () =>
        stripe.invoices.create(
          compact({
            customer: input.customer,
            collection_method: input.collectionMethod,
            days_until_due: input.daysUntilDue,
            metadata: input.metadata,
            description: input.description,
            auto_advance: false,
            pending_invoice_items_behavior: input.includePendingItems
              ? ("include" as const)
              : ("exclude" as const),
          }),
          requestOptions(input.idempotencyKey),
        ),
      ),

    finalizeInvoice: (id: string, idempotencyKey: string): Promise<Stripe.Invoice> =>
      callStripe("invoices.finalizeInvoice", () =>
        stripe.invoices.finalizeInvoice(id, {}, requestOptions(idempotencyKey)),
      ),

    sendInvoice: (id: string, idempotencyKey: string): Promise<Stripe.Invoice> =>
      callStripe("invoices.sendInvoice", () =>
        stripe.invoices.sendInvoice(id, {}, requestOptions(idempotencyKey)),
      ),

    payInvoice: (id: string, idempotencyKey: string): Promise<Stripe.Invoice> =>
      callStripe("invoices.pay", () => stripe.invoices.pay(id, {}, requestOptions(idempotencyKey))),

    voidInvoice: (id: string, idempotencyKey: string): Promise<Stripe.Invoice> =>
      callStripe("invoices.voidInvoice", () =>
        stripe.invoices.voidInvoice(id, {}, requestOptions(idempotencyKey)),
      ),

    markInvoiceUncollectible: (id: string, idempotencyKey: string): Promise<Stripe.Invoice> =>
      callStripe("invoices.markUncollectible", () =>
        stripe.invoices.markUncollectible(id, {}, requestOptions(idempotencyKey)),
      ),

    /** Attach a PaymentIntent to an open invoice: what it receives is credited to the invoice. */
    attachInvoicePayment: (invoiceId: string, paymentIntent: string, idempotencyKey: string): Promise<Stripe.Invoice> =>
      callStripe("invoices.attachPayment", () =>
        stripe.invoices.attachPayment(invoiceId, { payment_intent: paymentIntent }, requestOptions(idempotencyKey)),
      ),

    listInvoicePayments: (invoiceId: string): Promise<Stripe.ApiList<Stripe.InvoicePayment>> =>
      callStripe("invoicePayments.list", () => stripe.invoicePayments.list({ invoice: invoiceId, limit: 100 })),

    retrieveInvoice: (id: string): Promise<Stripe.Invoice> =>
      callStripe("invoices.retrieve", () => stripe.invoices.retrieve(id)),

    /** Newest first; used to find an invoice whose create answer was lost (by its metadata). */
    listInvoices: (input: ListInvoicesInput = {}): Promise<Stripe.ApiList<Stripe.Invoice>> =>
      callStripe("invoices.list", () =>
        stripe.invoices.list(
          compact({
            customer: input.customer,
            status: input.status,
            limit: input.limit,
            starting_after: input.startingAfter,
          }),
        ),
      ),

    createMeterEvent: (input: CreateMeterEventInput): Promise<Stripe.Billing.MeterEvent> =>
      callStripe("billing.meterEvents.create", () =>
        stripe.billing.meterEvents.create(
          compact({
            event_name: input.eventName,
            payload: { stripe_customer_id: input.customer, value: String(input.value) },
            identifier: input.identifier,
            timestamp: input.timestamp,
          }),
          requestOptions(input.idempotencyKey),
        ),
      ),

    // Billing: the plan catalogue and subscriptions (lib/billing)

    retrievePrice: (id: string): Promise<Stripe.Price> =>
      callStripe("prices.retrieve", () => stripe.prices.retrieve(id)),

    retrieveMeter: (id: string): Promise<Stripe.Billing.Meter> =>
      callStripe("billing.meters.retrieve", () => stripe.billing.meters.retrieve(id)),

    createCustomerSubscription: (input: CreateSubscriptionInput): Promise<Stripe.Subscription> =>
      callStripe("subscriptions.create", () =>
        stripe.subscriptions.create(
          compact({
            customer: input.customer,
            items: input.prices.map((price) => ({ price })),
            collection_method: "send_invoice" as const,
            days_until_due: input.daysUntilDue,
            metadata: input.metadata,
          }),
          requestOptions(input.idempotencyKey),
        ),
      ),

    retrieveSubscription: (id: string): Promise<Stripe.Subscription> =>
      callStripe("subscriptions.retrieve", () => stripe.subscriptions.retrieve(id)),

    /** A plan change: the old plan's items out, the new plan's prices in, prorated as Stripe does by default. */
    changeSubscriptionPrices: (input: ChangeSubscriptionPricesInput): Promise<Stripe.Subscription> =>
      callStripe("subscriptions.update", () =>
        stripe.subscriptions.update(
          input.subscription,
          compact({
            items: [
              ...input.removeItems.map((id) => ({ id, deleted: true })),
              ...input.addPrices.map((price) => ({ price })),
            ],
            metadata: input.metadata,
          }),
          requestOptions(input.idempotencyKey),
        ),
      ),

    setSubscriptionCancelAtPeriodEnd: (id: string, cancelAtPeriodEnd: boolean, idempotencyKey: string): Promise<Stripe.Subscription> =>
      callStripe("subscriptions.update", () =>
        stripe.subscriptions.update(id, { cancel_at_period_end: cancelAtPeriodEnd }, requestOptions(idempotencyKey)),
      ),

    cancelSubscription: (id: string, idempotencyKey: string): Promise<Stripe.Subscription> =>
      callStripe("subscriptions.cancel", () => stripe.subscriptions.cancel(id, {}, requestOptions(idempotencyKey))),

    // Events API (reconciliation: what did Stripe say happened?)

    listEvents: (input: ListEventsInput = {}): Promise<Stripe.ApiList<Stripe.Event>> =>
      callStripe("events.list", () => {
        const created =
          input.createdGte !== undefined || input.createdLte !== undefined
            ? compact({ gte: input.createdGte, lte: input.createdLte })
            : undefined;
        return stripe.events.list(
          compact({ created, types: input.types, limit: input.limit, starting_after: input.startingAfter }),
          input.stripeAccount ? { stripeAccount: input.stripeAccount } : {},
        );
      }),
  };
}

export type StripeGateway = ReturnType<typeof createStripeGateway>;
