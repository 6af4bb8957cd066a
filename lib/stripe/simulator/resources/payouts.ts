import { balanceInsufficient, invalidRequest } from "../errors";
import { applyMetadata, optionalString, requirePositiveAmount, requireString } from "../form";
import { LIST_PARAMS, listResponse, pathParam, type Route, type RouteContext } from "../router";
import type { SimulatorState } from "../state";
import type { PayoutOutcome, StoredObject } from "../types";
import { isRecord } from "../types";
import { payoutSchedule, type PayoutSchedule } from "./accounts";
import { assertInstantAvailable, INSTANT_ARRIVAL_SECONDS, instantDestination } from "./instant";

const DAY = 86_400;

/** Stripe's failure codes and the messages it sends with them. */
export const PAYOUT_FAILURE_MESSAGES: Record<string, string> = {
  account_closed: "The bank account has been closed.",
  account_frozen: "The bank account has been frozen.",
  bank_account_restricted:
    "The bank account has restrictions on either the type, or the number, of payouts allowed.",
  could_not_process: "The bank could not process this payout.",
  debit_not_authorized: "Debit transactions are not approved on the bank account.",
  declined: "The bank has declined this transfer.",
  insufficient_funds: "Your Stripe account has insufficient funds to cover the payout.",
  unsupported_card: "The bank no longer supports payouts to this card.",
  invalid_account_number: "The routing number seems correct, but the account number is invalid.",
  invalid_currency: "The bank was unable to process this payout because of its currency.",
  no_account:
    "The bank account details on file are probably incorrect. No bank account could be located with those details.",
};

function openPayouts(state: SimulatorState): Map<string, StoredObject> {
  return state.openPayouts;
}

function bankAccountId(state: SimulatorState, owner: string): string | null {
  const account = state.lookup(owner)?.object;
  const external = account && isRecord(account.external_accounts) ? account.external_accounts : undefined;
  const first = external && Array.isArray(external.data) ? external.data[0] : undefined;
  return isRecord(first) && typeof first.id === "string" ? first.id : null;
}

export function createPayoutObject(
  state: SimulatorState,
  owner: string,
  input: {
    amount: number;
    currency: string;
    automatic: boolean;
    description?: string | null;
    statementDescriptor?: string | null;
    /** `instant`: to an eligible debit card, limited by instant_available, within 30 minutes. */
    method?: "standard" | "instant";
    destination?: string | null;
  },
): StoredObject {
  const account = state.lookup(owner)?.object;
  if (owner !== state.platformAccountId && account?.payouts_enabled !== true)
    throw invalidRequest(
      "Payouts are not enabled for this account. Complete onboarding first.",
      "payouts_not_allowed",
    );
  const instant = input.method === "instant";
  const card = instant ? instantDestination(state, owner, input.destination ?? undefined) : undefined;
  if (instant) assertInstantAvailable(state, owner, input.amount, input.currency);
  const funds = state.balances.get(owner, input.currency);
  if (funds.available < input.amount)
    throw balanceInsufficient(
      `You have insufficient funds in your Stripe account for this transfer. Your ${input.currency.toUpperCase()} balance is too low. You can use the /v1/balance endpoint to view your Stripe balance (for more details, see stripe.com/docs/api#balance).`,
    );
  const payout = state.build("payout", "po");
  const transaction = state.recordBalanceTransaction({
    owner,
    amount: -input.amount,
    currency: input.currency,
    type: "payout",
    reportingCategory: "payout",
    source: payout.id,
    description: input.description ?? "STRIPE PAYOUT",
  });
  Object.assign(payout, {
    amount: input.amount,
    application_fee: null,
    application_fee_amount: null,
    arrival_date: state.now() + (instant ? INSTANT_ARRIVAL_SECONDS : DAY),
    automatic: input.automatic,
    balance_transaction: transaction.id,
    currency: input.currency,
    description: input.description ?? (input.automatic ? "STRIPE PAYOUT" : null),
    destination: card ? card.id : bankAccountId(state, owner),
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    method: instant ? "instant" : "standard",
    original_payout: null,
    reconciliation_status: "not_applicable",
    reversed_by: null,
    source_type: "card",
    statement_descriptor: input.statementDescriptor ?? null,
    status: "pending",
    type: card?.object === "card" ? "card" : "bank_account",
    trace_id: { status: "pending", value: null },
    payout_method: null,
  });
  state.store("payout", owner, payout);
  if (input.automatic) state.assignToAutomaticPayout(owner, input.currency, payout.id);
  openPayouts(state).set(payout.id, payout);
  state.emit("payout.created", payout, owner);
  return payout;
}

function moveToInTransit(state: SimulatorState, payout: StoredObject, owner: string): void {
  if (payout.status !== "pending") return;
  payout.status = "in_transit";
  payout.trace_id = { status: "pending", value: null };
  state.emit("payout.updated", payout, owner, { status: "pending" });
}

/** Ends a payout as Stripe would: paid, or failed/canceled with the amount returned to the balance. */
export function settlePayout(
  state: SimulatorState,
  id: string,
  outcome: PayoutOutcome,
  failureCode?: string,
): StoredObject {
  const entry = state.lookup(id);
  if (entry?.kind !== "payout")
    throw invalidRequest(`No such payout: '${id}'`, "resource_missing", "id", 404);
  const { object: payout, owner } = entry;
  if (payout.status !== "pending" && payout.status !== "in_transit")
    throw invalidRequest(`Payout ${id} is already ${String(payout.status)}.`, "payout_not_open");
  if (outcome === "canceled" && payout.status !== "pending")
    throw invalidRequest("Payouts can only be canceled while they are pending.", "payout_not_cancelable");
  const previousStatus = payout.status;
  if (outcome === "paid") {
    if (payout.status === "pending") moveToInTransit(state, payout, owner);
    payout.status = "paid";
    payout.arrival_date = Math.min(Number(payout.arrival_date), state.now());
    payout.reconciliation_status = "completed";
    payout.trace_id = { status: "supported", value: `SIMTRACE${id.slice(-8).toUpperCase()}` };
    openPayouts(state).delete(id);
    state.emit("payout.paid", payout, owner, { status: "in_transit" });
    return payout;
  }
  const amount = Number(payout.amount);
  const currency = String(payout.currency);
  const returned = state.recordBalanceTransaction({
    owner,
    amount,
    currency,
    type: outcome === "failed" ? "payout_failure" : "payout_cancel",
    reportingCategory: outcome === "failed" ? "payout_reversal" : "payout_reversal",
    source: payout.id,
    description: outcome === "failed" ? "Payout failure" : "Payout cancellation",
  });
  payout.failure_balance_transaction = returned.id;
  payout.status = outcome;
  if (outcome === "failed") {
    const code = failureCode ?? "could_not_process";
    payout.failure_code = code;
    payout.failure_message = PAYOUT_FAILURE_MESSAGES[code] ?? "The bank could not process this payout.";
  }
  openPayouts(state).delete(id);
  state.emit(`payout.${outcome}`, payout, owner, { status: previousStatus });
  return payout;
}

function isScheduledDay(schedule: PayoutSchedule, day: number): boolean {
  if (schedule.interval === "daily") return true;
  const date = new Date(day * DAY * 1000);
  if (schedule.interval === "weekly") {
    const names = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
    return names[date.getUTCDay()] === schedule.weeklyAnchor;
  }
  if (schedule.interval === "monthly") {
    const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
    return date.getUTCDate() === Math.min(schedule.monthlyAnchor, lastDay);
  }
  return false; // manual: never pays out by itself
}

function payoutDayBetween(schedule: PayoutSchedule, from: number, to: number): boolean {
  if (schedule.interval === "manual") return false;
  const firstDay = Math.floor(from / DAY) + 1;
  const lastDay = Math.floor(to / DAY);
  for (let day = firstDay; day <= lastDay && day < firstDay + 400; day++)
    if (isScheduledDay(schedule, day)) return true;
  return false;
}

/**
 * What happens while simulated time passes from `from` to `to`: pending funds become available,
 * open payouts move on (pending → in_transit → paid at arrival_date), and accounts on an automatic
 * schedule have their available balance swept into a payout on each scheduled day.
 */
export function sweepPayouts(state: SimulatorState, from: number, to: number): void {
  state.releasePendingFunds();
  for (const payout of [...openPayouts(state).values()]) {
    const owner = state.ownerOf(payout.id);
    if (!owner) continue;
    moveToInTransit(state, payout, owner);
    if (Number(payout.arrival_date) > to) continue;
    // An instant payout to a card that refuses it fails when it would have arrived.
    const cardFailure = state.instantCardFailures.get(String(payout.destination));
    if (payout.method === "instant" && cardFailure) settlePayout(state, payout.id, "failed", cardFailure);
    else settlePayout(state, payout.id, "paid");
  }
  for (const account of state.collection("account:connected").all()) {
    if (account.payouts_enabled !== true) continue;
    const schedule = payoutSchedule(account);
    if (!payoutDayBetween(schedule, from, to)) continue;
    for (const currency of state.balances.currencies(account.id)) {
      const available = state.balances.get(account.id, currency).available;
      if (available > 0)
        createPayoutObject(state, account.id, { amount: available, currency, automatic: true });
    }
  }
}

function createPayout(ctx: RouteContext): StoredObject {
  const { params, state } = ctx;
  const method = optionalString(params, "method") ?? "standard";
  if (method !== "standard" && method !== "instant")
    throw invalidRequest(
      "Invalid method: must be one of standard or instant",
      "parameter_invalid_string",
      "method",
    );
  const payout = createPayoutObject(state, ctx.account, {
    method,
    destination: optionalString(params, "destination") ?? null,
    amount: requirePositiveAmount(params),
    currency: requireString(params, "currency").toLowerCase(),
    automatic: false,
    description: optionalString(params, "description") ?? null,
    statementDescriptor: optionalString(params, "statement_descriptor") ?? null,
  });
  applyMetadata(payout, params);
  return payout;
}

export const payoutRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/payouts",
    allowedParams: [
      "amount",
      "currency",
      "description",
      "metadata",
      "method",
      "destination",
      "statement_descriptor",
      "source_type",
    ],
    handle: createPayout,
  },
  {
    method: "GET",
    pattern: "/v1/payouts",
    allowedParams: [...LIST_PARAMS, "status", "created", "arrival_date", "destination"],
    handle: (ctx) => {
      const status = optionalString(ctx.params, "status");
      return listResponse(
        ctx,
        ctx.state.collection(`payout:${ctx.account}`),
        "/v1/payouts",
        status ? (p) => p.status === status : undefined,
      );
    },
  },
  {
    method: "GET",
    pattern: "/v1/payouts/:id",
    allowedParams: [],
    handle: (ctx) => ctx.state.find("payout", pathParam(ctx, "id"), ctx.account),
  },
  {
    method: "POST",
    pattern: "/v1/payouts/:id/cancel",
    allowedParams: [],
    handle: (ctx) => {
      const payout = ctx.state.find("payout", pathParam(ctx, "id"), ctx.account);
      return settlePayout(ctx.state, payout.id, "canceled");
    },
  },
];
