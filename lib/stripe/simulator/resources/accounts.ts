import { invalidRequest, parameterMissing } from "../errors";
import { applyMetadata, optionalObject, optionalString, requireString } from "../form";
import { LIST_PARAMS, listResponse, pathParam, type Route, type RouteContext } from "../router";
import { newFingerprint } from "../ids";
import type { SimulatorState } from "../state";
import type { FormObject, StoredObject, StripeObject } from "../types";
import { isRecord } from "../types";

const PAYOUT_INTERVALS = new Set(["manual", "daily", "weekly", "monthly"]);

export interface PayoutSchedule {
  interval: string;
  delayDays: number;
  weeklyAnchor: string;
  monthlyAnchor: number;
}

export function payoutSchedule(account: StripeObject): PayoutSchedule {
  const settings = isRecord(account.settings) ? account.settings : {};
  const payouts = isRecord(settings.payouts) ? settings.payouts : {};
  const schedule = isRecord(payouts.schedule) ? payouts.schedule : {};
  return {
    interval: typeof schedule.interval === "string" ? schedule.interval : "daily",
    delayDays: typeof schedule.delay_days === "number" ? schedule.delay_days : 2,
    weeklyAnchor: typeof schedule.weekly_anchor === "string" ? schedule.weekly_anchor : "monday",
    monthlyAnchor: typeof schedule.monthly_anchor === "number" ? schedule.monthly_anchor : 1,
  };
}

/** Applies `settings[payouts][schedule][...]` (and the rest of settings.payouts) to the account. */
function applySettings(account: StripeObject, params: FormObject): void {
  const settingsParam = optionalObject(params, "settings");
  if (!settingsParam) return;
  const settings = isRecord(account.settings) ? account.settings : {};
  account.settings = settings;
  const payoutsParam = settingsParam.payouts;
  if (!isRecord(payoutsParam)) return;
  const payouts = isRecord(settings.payouts) ? settings.payouts : {};
  settings.payouts = payouts;
  if (typeof payoutsParam.statement_descriptor === "string")
    payouts.statement_descriptor = payoutsParam.statement_descriptor;
  if (typeof payoutsParam.debit_negative_balances === "string")
    payouts.debit_negative_balances = payoutsParam.debit_negative_balances === "true";
  const scheduleParam = payoutsParam.schedule;
  if (!isRecord(scheduleParam)) return;
  const schedule: Record<string, unknown> = isRecord(payouts.schedule) ? { ...payouts.schedule } : {};
  const interval = scheduleParam.interval;
  if (typeof interval === "string") {
    if (!PAYOUT_INTERVALS.has(interval))
      throw invalidRequest(
        `Invalid interval: ${interval}`,
        "parameter_invalid_string",
        "settings[payouts][schedule][interval]",
      );
    schedule.interval = interval;
  }
  if (typeof scheduleParam.delay_days === "string")
    schedule.delay_days = scheduleParam.delay_days === "minimum" ? 2 : Number(scheduleParam.delay_days);
  if (typeof scheduleParam.weekly_anchor === "string") schedule.weekly_anchor = scheduleParam.weekly_anchor;
  if (typeof scheduleParam.monthly_anchor === "string")
    schedule.monthly_anchor = Number(scheduleParam.monthly_anchor);
  if (schedule.interval !== "weekly") delete schedule.weekly_anchor;
  if (schedule.interval !== "monthly") delete schedule.monthly_anchor;
  payouts.schedule = schedule;
}

function requestedCapabilities(params: FormObject): Record<string, string> {
  const capabilities: Record<string, string> = {};
  const param = optionalObject(params, "capabilities");
  if (param) {
    for (const [name, value] of Object.entries(param)) {
      if (isRecord(value) && value.requested === "true") capabilities[name] = "inactive";
    }
  }
  if (Object.keys(capabilities).length === 0) capabilities.transfers = "inactive";
  return capabilities;
}

function createAccount(ctx: RouteContext): StoredObject {
  const { state, params } = ctx;
  const type = optionalString(params, "type");
  if (!type && !optionalObject(params, "controller")) throw parameterMissing("type");
  const account = state.build("account", "acct");
  const country = optionalString(params, "country") ?? "US";
  const bankAccount = buildBankAccount(state, account.id, country);
  Object.assign(account, {
    type: type ?? "express",
    country,
    email: optionalString(params, "email") ?? null,
    business_type: optionalString(params, "business_type") ?? null,
    default_currency: optionalString(params, "default_currency") ?? state.config.currency,
    capabilities: requestedCapabilities(params),
    charges_enabled: false,
    payouts_enabled: false,
    details_submitted: false,
    controller: { type: "application", is_controller: true },
    external_accounts: {
      object: "list",
      data: [bankAccount],
      has_more: false,
      url: `/v1/accounts/${account.id}/external_accounts`,
    },
    settings: {
      ...(isRecord(account.settings) ? account.settings : {}),
      payouts: {
        debit_negative_balances: true,
        schedule: { delay_days: 2, interval: "daily" },
        statement_descriptor: null,
      },
    },
  });
  applySettings(account, params);
  applyMetadata(account, params);
  state.store("account", account.id, account, ["account:connected"]);
  return account;
}

/**
 * A bank account on a connected account, as Stripe shows it (`account`, `fingerprint`, `last4`, ...;
 * no full number). The fingerprint is random unless given: the same bank account entered on two
 * accounts has the same fingerprint at Stripe.
 */
function buildBankAccount(state: SimulatorState, accountId: string, country: string, input: { fingerprint?: string; last4?: string } = {}): StoredObject {
  const bankAccount = state.build("bank_account", "ba");
  Object.assign(bankAccount, {
    account: accountId,
    // A test bank account takes standard payouts only; a debit card (resources/instant.ts) adds instant.
    available_payout_methods: ["standard"],
    account_holder_name: null,
    account_holder_type: null,
    bank_name: "STRIPE TEST BANK",
    country,
    currency: state.config.currency,
    default_for_currency: true,
    fingerprint: input.fingerprint ?? newFingerprint(),
    last4: input.last4 ?? "6789",
    routing_number: "110000000",
    status: "new",
    customer: null,
  });
  return bankAccount;
}

function externalAccountList(account: StripeObject): StripeObject[] {
  const list = isRecord(account.external_accounts) ? account.external_accounts : null;
  return list && Array.isArray(list.data) ? (list.data as StripeObject[]) : [];
}

/**
 * The payee changed their bank account in the Express dashboard: a new bank account (with
 * `fingerprint`, random if absent) replaces the old ones, or, with `fingerprint: null`, every bank
 * account is removed. Emits what Stripe emits: account.external_account.created for the new one,
 * account.external_account.deleted for each removed one, then account.updated.
 */
export function setBankAccount(
  state: SimulatorState,
  id: string,
  input: { fingerprint?: string | null; last4?: string },
): StoredObject {
  const account = findConnectedAccount(state, id);
  const previous = externalAccountList(account);
  const added =
    input.fingerprint === null
      ? []
      : [buildBankAccount(state, account.id, String(account.country ?? "US"), { fingerprint: input.fingerprint, last4: input.last4 })];
  account.external_accounts = {
    object: "list",
    data: added,
    has_more: false,
    url: `/v1/accounts/${account.id}/external_accounts`,
  };
  for (const bank of added) state.emit("account.external_account.created", bank, account.id);
  for (const bank of previous) state.emit("account.external_account.deleted", { ...bank, deleted: true }, account.id);
  state.emit("account.updated", account, account.id, { external_accounts: { object: "list", data: previous } });
  return account;
}

/** An account by id: accounts are their own owners, so this works with or without Stripe-Account. */
export function findConnectedAccount(state: SimulatorState, id: string, param = "id"): StoredObject {
  return state.find("account", id, id, "account", param);
}

/** Stripe-hosted onboarding finished: details submitted, capabilities active, requirements met. */
export function onboardAccount(state: SimulatorState, id: string, options: { bankFingerprint?: string } = {}): StoredObject {
  const account = findConnectedAccount(state, id);
  // The bank account the payee entered while onboarding: its fingerprint, when the test gives one.
  if (options.bankFingerprint) for (const bank of externalAccountList(account)) bank.fingerprint = options.bankFingerprint;
  const previous = {
    charges_enabled: account.charges_enabled,
    payouts_enabled: account.payouts_enabled,
    details_submitted: account.details_submitted,
  };
  const capabilities: Record<string, string> = {};
  for (const name of Object.keys(isRecord(account.capabilities) ? account.capabilities : {}))
    capabilities[name] = "active";
  Object.assign(account, {
    capabilities,
    charges_enabled: "card_payments" in capabilities,
    payouts_enabled: true,
    details_submitted: true,
    // Onboarding asks the payee what they are; an individual unless the account said otherwise.
    business_type: account.business_type ?? "individual",
    requirements: {
      alternatives: [],
      current_deadline: null,
      currently_due: [],
      disabled_reason: null,
      errors: [],
      eventually_due: [],
      past_due: [],
      pending_verification: [],
    },
    tos_acceptance: { date: state.now(), ip: "127.0.0.1", user_agent: "payrun-simulator" },
  });
  state.emit("account.updated", account, account.id, previous);
  return account;
}

export function hasActiveTransfers(account: StripeObject): boolean {
  return isRecord(account.capabilities) && account.capabilities.transfers === "active";
}

function updateAccount(ctx: RouteContext): StoredObject {
  const id = pathParam(ctx, "id");
  const account = findConnectedAccount(ctx.state, id);
  const previousSettings = JSON.parse(JSON.stringify(account.settings ?? null));
  applySettings(account, ctx.params);
  applyMetadata(account, ctx.params);
  const email = optionalString(ctx.params, "email");
  if (email !== undefined) account.email = email;
  ctx.state.emit("account.updated", account, account.id, { settings: previousSettings });
  return account;
}

export const accountRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/accounts",
    allowedParams: [
      "type",
      "country",
      "email",
      "capabilities",
      "settings",
      "metadata",
      "business_type",
      "business_profile",
      "controller",
      "default_currency",
      "tos_acceptance",
      "individual",
      "company",
      "external_account",
    ],
    handle: createAccount,
  },
  {
    method: "GET",
    pattern: "/v1/accounts",
    allowedParams: [...LIST_PARAMS, "created"],
    handle: (ctx) => listResponse(ctx, ctx.state.collection("account:connected"), "/v1/accounts"),
  },
  {
    method: "GET",
    pattern: "/v1/accounts/:id",
    allowedParams: [],
    handle: (ctx) => findConnectedAccount(ctx.state, pathParam(ctx, "id")),
  },
  {
    method: "GET",
    pattern: "/v1/account",
    allowedParams: [],
    handle: (ctx) => findConnectedAccount(ctx.state, ctx.account),
  },
  {
    method: "POST",
    pattern: "/v1/accounts/:id",
    allowedParams: ["settings", "metadata", "email", "business_profile", "capabilities", "tos_acceptance"],
    handle: updateAccount,
  },
  {
    method: "POST",
    pattern: "/v1/account_links",
    allowedParams: ["account", "refresh_url", "return_url", "type", "collect", "collection_options"],
    handle: (ctx) => {
      const accountId = requireString(ctx.params, "account");
      findConnectedAccount(ctx.state, accountId, "account");
      requireString(ctx.params, "type");
      const link = ctx.state.build("account_link", "acctlink");
      const now = ctx.state.now();
      // Account links carry no id on the wire; the one `build` added is internal only.
      Reflect.deleteProperty(link, "id");
      Object.assign(link, {
        created: now,
        expires_at: now + 300,
        url: `https://connect.stripe.com/setup/e/${accountId}/${Math.random().toString(36).slice(2, 14)}`,
      });
      return link;
    },
  },
  {
    method: "POST",
    pattern: "/v1/accounts/:id/login_links",
    allowedParams: [],
    handle: (ctx) => {
      const account = findConnectedAccount(ctx.state, pathParam(ctx, "id"), "account");
      if (account.type !== "express")
        throw invalidRequest("Login links can only be created for Express accounts.", undefined, "account");
      if (account.details_submitted !== true)
        throw invalidRequest(
          "Cannot create a login link for an account that has not completed onboarding.",
          undefined,
          "account",
        );
      const link = ctx.state.build("login_link", "lnk");
      Reflect.deleteProperty(link, "id");
      Object.assign(link, {
        created: ctx.state.now(),
        url: `https://connect.stripe.com/express/${account.id}/${Math.random().toString(36).slice(2, 14)}`,
      });
      return link;
    },
  },
];
