import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { handleControlRequest } from "./control";
import {
  FaultInjector,
  STRIPE_LIVE_RATE_LIMITS,
  type FaultConfig,
  type LatencySpec,
  type RateLimits,
} from "./faults";
import { IdempotencyStore } from "./idempotency";
import { invalidRequest, resourceMissing } from "./errors";
import { StatePersistence } from "./persistence";
import { RequestLog, type RequestLogEntry } from "./request-log";
import { NO_PROCESSING_FEE, type ProcessingFee } from "./money";
import { accountRoutes, onboardAccount, setBankAccount } from "./resources/accounts";
import { applicationFeeRoutes } from "./resources/application-fees";
import { balanceRoutes } from "./resources/balance";
import { billingRoutes } from "./resources/billing";
import { catalogRoutes, seedCatalog } from "./resources/catalog";
import { subscriptionRoutes } from "./resources/subscriptions";
import { createDispute, disputeRoutes, resolveDispute } from "./resources/disputes";
import { BYPASS_PENDING_PAYMENT_METHOD, createDestinationCharge, paymentRoutes } from "./resources/payments";
import { createPayoutObject, payoutRoutes, settlePayout, sweepPayouts } from "./resources/payouts";
import { addDebitCard, externalAccountRoutes, setInstantCap } from "./resources/instant";
import { refundRoutes } from "./resources/refunds";
import { transferRoutes } from "./resources/transfers";
import { Router } from "./router";
import { handleApiRequest } from "./server";
import { SimulatorState } from "./state";
import type { PayoutOutcome, StoredObject } from "./types";
import {
  type DeliveryRecord,
  type SuppressedEvent,
  type WebhookConfig,
  WebhookDispatcher,
  WebhookSuppressions,
} from "./webhooks";

export type { FaultConfig, EndpointFaults, LatencySpec, RateLimits, WebhookFaults } from "./faults";
export { STRIPE_LIVE_RATE_LIMITS } from "./faults";
export type { RequestLogEntry } from "./request-log";
export type { DeliveryRecord, SuppressedEvent } from "./webhooks";
export type { ProcessingFee } from "./money";
export { signStripePayload } from "./webhooks";
export type { PayoutOutcome, StoredObject } from "./types";
export { PLATFORM_ACCOUNT_ID } from "./state";
export { IDEMPOTENCY_KEY_TTL_SECONDS } from "./idempotency";

export interface StripeSimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  webhookUrl?: string;
  webhookSecret?: string;
  connectWebhookSecret?: string;
  platformBalanceCents?: number;
  currency?: string;
  /** Deliver webhooks as events happen (default true when a webhook URL is set). */
  autoDeliverWebhooks?: boolean;
  webhookRetryBaseMs?: number;
  webhookMaxAttempts?: number;
  /** Stripe's live rate limits (100/s, 25/s per endpoint, 15/s payouts), or custom ones. */
  liveLimits?: boolean | RateLimits;
  /** Latency added to every API request, e.g. { min: 150, max: 300 }. */
  latencyMs?: LatencySpec;
  /** Initial fault configuration. */
  faults?: FaultConfig;
  /** Keep state in this JSON file: loaded at start, saved (debounced) after changes and on close. */
  statePath?: string;
  /** Stripe's processing fee on charges, e.g. { percentBasisPoints: 290, fixedCents: 30 }. Default none. */
  processingFee?: ProcessingFee;
}

export interface DestinationChargeRequest {
  destination: string;
  amount: number;
  currency?: string;
  /** Whole amount transferred, then this fee collected back (an `application_fee` object). */
  applicationFeeAmount?: number;
  /** `transfer_data[amount]`: exactly this much transferred, no application fee object. */
  transferAmount?: number;
  /** Funds available at once (Stripe's pm_card_bypassPending) instead of pending for two days. Default true. */
  availableImmediately?: boolean;
}

export interface HandMadePayoutRequest {
  /** Default: the whole available balance in that currency. */
  amount?: number;
  currency?: string;
  /** A payout Stripe's schedule made (listable with `balance_transactions?payout=`); default false, as from the Dashboard. */
  automatic?: boolean;
  description?: string;
}

export interface AdjustmentRequest {
  amount: number;
  currency?: string;
  description?: string;
  /** `adjustment` (default) or `stripe_fee` (a Stripe charge outside any payment, e.g. a Connect account fee). */
  type?: "adjustment" | "stripe_fee";
  /** Default `other_adjustment` for an adjustment, `fee` for a stripe_fee. */
  reportingCategory?: string;
}

export interface AccountBalances {
  account: string;
  balances: Array<{ currency: string; available: number; pending: number }>;
}

export interface StripeSimulator {
  readonly url: string;
  readonly port: number;
  readonly platformAccountId: string;
  close(): Promise<void>;
  /** Served requests with seq > `since`, oldest first. */
  requests(since?: number, limit?: number): RequestLogEntry[];
  /** Every meter event the simulator accepted (after identifier dedupe), oldest first, for assertions. */
  meterEvents(): readonly StoredObject[];
  /** Any stored object by id (unscoped), for assertions. */
  getObject(id: string): StoredObject | undefined;
  /** Simulated time, Unix seconds. */
  now(): number;
  /** Moves simulated time on, then runs what is due (funds availability, payout progress, automatic payouts). Returns the new time. */
  advanceClock(seconds: number): number;
  /** Demo seeding only: start a fresh simulator's clock in the past (see SimulatedClock.startAt). */
  startClockAt(unixSeconds: number): number;
  settlePayout(payoutId: string, outcome: PayoutOutcome, failureCode?: string): StoredObject;
  /** Onboarding finished; `bankFingerprint`: the bank account entered has this fingerprint. */
  onboardAccount(accountId: string, options?: { bankFingerprint?: string }): StoredObject;
  /** The payee replaced their bank account (new fingerprint, random if absent), or removed it (`fingerprint: null`). */
  setBankAccount(accountId: string, input: { fingerprint?: string | null; last4?: string }): StoredObject;
  /** Adds an instant-eligible debit card; with `failureCode` every instant payout to it fails so. */
  addDebitCard(accountId: string, options?: { failureCode?: string }): StoredObject;
  /** Caps the account's instant_available below its available balance (null: no cap). */
  setInstantCap(
    accountId: string,
    cap: number | null,
  ): { account: string; instant_available_cap: number | null };
  createDestinationCharge(request: DestinationChargeRequest): StoredObject;
  createDispute(chargeId: string, input?: { amount?: number; reason?: string }): StoredObject;
  resolveDispute(disputeId: string, outcome: "won" | "lost"): StoredObject;
  /** A payout made outside the API (the Dashboard, or Stripe's schedule when `automatic`); emits payout.created. */
  createHandMadePayout(accountId: string, request?: HandMadePayoutRequest): StoredObject;
  /** A balance transaction Payrun never asked for (`adjustment` or `stripe_fee`), moving the available balance. */
  createAdjustment(accountId: string, request: AdjustmentRequest): StoredObject;
  /** Rewrites an object's `amount` after the fact (a balance transaction's `net` follows); no money moves, no event. */
  changeAmount(objectId: string, amount: number): StoredObject;
  /** The next `count` events of `type` are kept for the Events API but never delivered. */
  suppressWebhooks(type: string, count: number): void;
  webhookSuppressions(): { pending: Record<string, number>; suppressed: readonly SuppressedEvent[] };
  setProcessingFee(fee: ProcessingFee): void;
  processingFee(): ProcessingFee;
  balances(accountId: string): AccountBalances;
  setFaults(config: FaultConfig, options?: { merge?: boolean }): void;
  getFaults(): FaultConfig;
  configureWebhooks(config: {
    url?: string;
    secret?: string;
    connectSecret?: string;
    autoDeliver?: boolean;
  }): void;
  webhookConfig(): { url: string | undefined; autoDeliver: boolean; connectSecretSet: boolean };
  webhookDeliveries(): readonly DeliveryRecord[];
  pendingWebhookCount(): number;
  deliverPendingWebhooks(): Promise<void>;
  /** Forgets every object, balance, key and log entry; keeps faults and webhook settings. */
  reset(): void;
}

export const DEFAULT_WEBHOOK_SECRET = "whsec_simulator_default_secret";

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function rateLimitsFrom(option: StripeSimulatorOptions["liveLimits"]): RateLimits | undefined {
  if (!option) return undefined;
  return option === true ? { ...STRIPE_LIVE_RATE_LIMITS } : { ...STRIPE_LIVE_RATE_LIMITS, ...option };
}

/** Starts the simulator's HTTP server (Stripe's API under /v1, the control API under /_simulator). */
export async function startStripeSimulator(options: StripeSimulatorOptions = {}): Promise<StripeSimulator> {
  const currency = (options.currency ?? "usd").toLowerCase();
  const state = new SimulatorState({
    currency,
    platformBalanceCents: options.platformBalanceCents ?? 100_000_000,
    apiVersion: Stripe.API_VERSION,
    processingFee: options.processingFee,
  });
  const router = new Router([
    ...accountRoutes,
    ...transferRoutes,
    ...payoutRoutes,
    ...externalAccountRoutes,
    ...balanceRoutes,
    ...paymentRoutes,
    ...refundRoutes,
    ...applicationFeeRoutes,
    ...disputeRoutes,
    ...billingRoutes,
    ...catalogRoutes,
    ...subscriptionRoutes,
  ]);
  const idempotency = new IdempotencyStore();
  const faults = new FaultInjector();
  const log = new RequestLog();
  const meterEventsInFlight = new Set<string>();
  const initialFaults: FaultConfig = structuredClone(options.faults ?? {});
  const limits = rateLimitsFrom(options.liveLimits);
  if (limits) initialFaults.rateLimits = { ...limits, ...initialFaults.rateLimits };
  if (options.latencyMs !== undefined)
    initialFaults.all = { latencyMs: options.latencyMs, ...initialFaults.all };
  faults.set(initialFaults);

  const webhookConfig: WebhookConfig = {
    url: options.webhookUrl,
    secret: options.webhookSecret ?? DEFAULT_WEBHOOK_SECRET,
    connectSecret: options.connectWebhookSecret,
    autoDeliver: options.autoDeliverWebhooks ?? true,
    retryBaseMs: options.webhookRetryBaseMs ?? 1000,
    maxAttempts: options.webhookMaxAttempts ?? 8,
    timeoutMs: 10_000,
    concurrency: 8,
  };
  const webhooks = new WebhookDispatcher(webhookConfig, () => faults.webhookFaults());
  const syncPendingWebhooks = () => {
    state.pendingWebhooksPerEvent = webhooks.enabled ? 1 : 0;
  };
  syncPendingWebhooks();
  const suppressions = new WebhookSuppressions();
  state.onEvent((event, account) => {
    if (suppressions.take(event, account)) {
      event.pending_webhooks = 0;
      return;
    }
    webhooks.enqueue(event, account);
  });
  const persistence = options.statePath
    ? new StatePersistence(options.statePath, state, idempotency)
    : undefined;
  persistence?.load();
  // The billing catalogue (prices the plan map names), on a fresh state and on one loaded from a file.
  seedCatalog(state);

  /** Marks in-process changes (the control accessors) for the state file, if there is one. */
  const changed = <T>(value: T): T => {
    persistence?.scheduleSave();
    return value;
  };

  let simulator: StripeSimulator | undefined;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    readBody(req)
      .then((body) => {
        if (req.url?.startsWith("/_simulator/") && simulator)
          return handleControlRequest(simulator, req, res, body);
        return handleApiRequest({ state, router, idempotency, faults, log, meterEventsInFlight }, req, res, body);
      })
      .catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { "Content-Type": "application/json" });
          res.end(
            JSON.stringify({
              error: { type: "api_error", message: error instanceof Error ? error.message : String(error) },
            }),
          );
        }
      });
  });
  server.keepAliveTimeout = 65_000;
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  simulator = {
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`,
    port,
    platformAccountId: state.platformAccountId,
    close: async () => {
      persistence?.saveNow();
      webhooks.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    requests: (since = 0, limit) => log.since(since, limit),
    getObject: (id) => state.lookup(id)?.object,
    meterEvents: () => state.collection(`billing.meter_event:${state.platformAccountId}`).all(),
    now: () => state.now(),
    advanceClock: (seconds) => {
      const from = state.now();
      state.clock.advance(seconds);
      const to = state.now();
      sweepPayouts(state, from, to);
      idempotency.prune(to);
      return changed(to);
    },
    startClockAt: (unixSeconds) => {
      state.clock.startAt(unixSeconds);
      state.redateOpeningBalance();
      return changed(state.now());
    },
    settlePayout: (id, outcome, failureCode) => changed(settlePayout(state, id, outcome, failureCode)),
    onboardAccount: (id, options) => changed(onboardAccount(state, id, options)),
    setBankAccount: (id, input) => changed(setBankAccount(state, id, input)),
    addDebitCard: (id, cardOptions) => changed(addDebitCard(state, id, cardOptions)),
    setInstantCap: (id, cap) => changed(setInstantCap(state, id, cap)),
    createDestinationCharge: (request) =>
      changed(
        createDestinationCharge(state, {
          amount: request.amount,
          currency: (request.currency ?? currency).toLowerCase(),
          destination: request.destination,
          applicationFeeAmount: request.applicationFeeAmount,
          transferAmount: request.transferAmount,
          paymentMethod:
            request.availableImmediately === false ? "pm_card_visa" : BYPASS_PENDING_PAYMENT_METHOD,
          confirm: true,
        }),
      ),
    createDispute: (chargeId, input) => changed(createDispute(state, chargeId, input)),
    resolveDispute: (disputeId, outcome) => changed(resolveDispute(state, disputeId, outcome)),
    createHandMadePayout: (accountId, request = {}) => {
      const payoutCurrency = (request.currency ?? currency).toLowerCase();
      state.find("account", accountId, accountId, "account");
      const amount = request.amount ?? state.balances.get(accountId, payoutCurrency).available;
      if (amount <= 0)
        throw invalidRequest("A payout needs a positive amount (or a positive available balance).");
      return changed(
        createPayoutObject(state, accountId, {
          amount,
          currency: payoutCurrency,
          automatic: request.automatic ?? false,
          description: request.description ?? null,
        }),
      );
    },
    createAdjustment: (accountId, request) => {
      state.find("account", accountId, accountId, "account");
      return changed(
        state.recordBalanceTransaction({
          owner: accountId,
          amount: request.amount,
          currency: (request.currency ?? currency).toLowerCase(),
          type: request.type ?? "adjustment",
          reportingCategory:
            request.reportingCategory ?? (request.type === "stripe_fee" ? "fee" : "other_adjustment"),
          source: null,
          description:
            request.description ?? (request.type === "stripe_fee" ? "Stripe fee" : "Manual adjustment"),
        }),
      );
    },
    changeAmount: (objectId, amount) => {
      const object = state.lookup(objectId)?.object;
      if (!object) throw resourceMissing("object", objectId);
      if (typeof object.amount !== "number")
        throw invalidRequest(`Object ${objectId} has no amount to change.`, undefined, "id");
      object.amount = amount;
      if (object.object === "balance_transaction") object.net = amount - Number(object.fee);
      return changed(object);
    },
    suppressWebhooks: (type, count) => suppressions.add(type, count),
    webhookSuppressions: () => ({ pending: suppressions.pending(), suppressed: suppressions.suppressed }),
    setProcessingFee: (fee) => {
      state.config.processingFee = { ...fee };
    },
    processingFee: () => state.config.processingFee ?? NO_PROCESSING_FEE,
    balances: (accountId) => ({
      account: accountId,
      balances: state.balances
        .currencies(accountId)
        .map((c) => ({ currency: c, ...state.balances.get(accountId, c) })),
    }),
    setFaults: (config, opts) => (opts?.merge ? faults.merge(config) : faults.set(config)),
    getFaults: () => faults.get(),
    configureWebhooks: (config) => {
      if ("url" in config) webhookConfig.url = config.url;
      if (config.secret) webhookConfig.secret = config.secret;
      if (config.connectSecret) webhookConfig.connectSecret = config.connectSecret;
      if (config.autoDeliver !== undefined) webhookConfig.autoDeliver = config.autoDeliver;
      syncPendingWebhooks();
      if (webhookConfig.autoDeliver) webhooks.resume();
    },
    webhookConfig: () => ({
      url: webhookConfig.url,
      autoDeliver: webhookConfig.autoDeliver,
      connectSecretSet: Boolean(webhookConfig.connectSecret),
    }),
    webhookDeliveries: () => webhooks.deliveries,
    pendingWebhookCount: () => webhooks.pendingCount,
    deliverPendingWebhooks: () => webhooks.deliverPending(),
    reset: () => {
      suppressions.clear();
      state.reset();
      seedCatalog(state);
      idempotency.clear();
      log.clear();
      changed(undefined);
    },
  };
  return simulator;
}
