import { BalanceBook } from "./balances";
import { SimulatedClock } from "./clock";
import { OrderedCollection } from "./collection";
import { resourceMissing } from "./errors";
import { fixtureTemplate } from "./fixtures";
import { newId } from "./ids";
import { type FeeDetail, NO_PROCESSING_FEE, type ProcessingFee } from "./money";
import type { StoredObject, StripeObject } from "./types";

export interface SimulatorConfig {
  currency: string;
  platformBalanceCents: number;
  apiVersion: string;
  /** Stripe's processing fee on charges (default none, so amounts stay round). Changeable at run time. */
  processingFee?: ProcessingFee;
}

export interface ActiveRequest {
  id: string;
  idempotencyKey: string | undefined;
  apiVersion: string;
  created: string[];
}

interface IndexedObject {
  object: StoredObject;
  /** The account the object lives on: the platform or a connected account. */
  owner: string;
  kind: string;
}

export interface SavedSimulatorState {
  clockOffset: number;
  objects: Array<{ object: StoredObject; owner: string; kind: string }>;
  collections: Record<string, string[]>;
  balances: ReturnType<BalanceBook["exportState"]>;
  openPayoutIds: string[];
  /** Balance transaction id → the automatic payout that paid it out. Absent in files saved before it existed. */
  paidOutBy?: Record<string, string>;
  /** Running totals behind proportional reversals and fee refunds (see proportionalSlice). Absent in older files. */
  proportionalBases?: Record<string, number>;
}

export type EventListener = (event: StoredObject, account: string | undefined) => void;

export const PLATFORM_ACCOUNT_ID = "acct_1SimPlatform00000";

/**
 * Everything the simulator knows: objects by id, per-owner lists for pagination, balances, the
 * clock and the events it has emitted. Handlers run synchronously against it, one request at a
 * time (Node's event loop), so no locking is needed.
 */
export class SimulatorState {
  readonly clock = new SimulatedClock();
  readonly balances = new BalanceBook();
  readonly platformAccountId = PLATFORM_ACCOUNT_ID;
  private readonly objects = new Map<string, IndexedObject>();
  private readonly collections = new Map<string, OrderedCollection>();
  private readonly eventListeners: EventListener[] = [];
  /** Set while a Stripe API request runs, so created ids and events can name it. */
  activeRequest: ActiveRequest | undefined;
  pendingWebhooksPerEvent = 0;
  /** Payouts not yet final, so clock sweeps visit these and not every payout ever made. */
  readonly openPayouts = new Map<string, StoredObject>();
  /**
   * Per connected account, what the control API set for Instant Payouts (resources/instant.ts): a cap
   * on `instant_available` below the available balance. Not a Stripe field, so kept beside the objects.
   */
  readonly instantCaps = new Map<string, number>();
  /** Debit cards whose instant payouts fail, with the failure_code they fail with. */
  readonly instantCardFailures = new Map<string, string>();
  /**
   * Which automatic payout paid out each balance transaction (`GET /v1/balance_transactions?payout=`).
   * Stripe's objects carry no such field, so it is kept beside them.
   */
  private readonly paidOutBy = new Map<string, string>();
  /** Balance transactions no automatic payout has taken yet, per `account currency`. */
  private readonly awaitingPayout = new Map<string, Set<string>>();
  private readonly proportionalBases = new Map<string, number>();

  constructor(readonly config: SimulatorConfig) {
    this.seed();
  }

  now(): number {
    return this.clock.nowSeconds();
  }

  reset(): void {
    this.objects.clear();
    this.collections.clear();
    this.balances.clear();
    this.openPayouts.clear();
    this.instantCaps.clear();
    this.instantCardFailures.clear();
    this.paidOutBy.clear();
    this.awaitingPayout.clear();
    this.proportionalBases.clear();
    this.clock.reset();
    this.seed();
  }

  processingFee(): ProcessingFee {
    return this.config.processingFee ?? NO_PROCESSING_FEE;
  }

  private seed(): void {
    const platform = fixtureTemplate("account");
    Object.assign(platform, {
      id: this.platformAccountId,
      type: "standard",
      email: "platform@payrun.example",
      country: "US",
      default_currency: this.config.currency,
      charges_enabled: true,
      payouts_enabled: true,
      details_submitted: true,
      created: this.now(),
      metadata: {},
    });
    this.store("account", this.platformAccountId, platform as StoredObject);
    // A balance transaction, not a bare balance, so an account's transactions always sum to its balance.
    if (this.config.platformBalanceCents !== 0)
      this.recordBalanceTransaction({
        owner: this.platformAccountId,
        amount: this.config.platformBalanceCents,
        currency: this.config.currency,
        // How a platform funds its balance at Stripe: a top-up.
        type: "topup",
        reportingCategory: "topup",
        source: null,
        description: "Simulator opening balance",
      });
  }

  /** Demo seeding moves the clock into the past before anything exists: date the opening balance with it. */
  redateOpeningBalance(): void {
    for (const transaction of this.collection(`balance_transaction:${this.platformAccountId}`).all()) {
      if (transaction.description !== "Simulator opening balance") continue;
      transaction.created = this.now();
      transaction.available_on = this.now();
    }
  }

  /** A fixture-shaped object with a fresh id, `created` now and `livemode` false, ready to fill in. */
  build(resource: string, idPrefix: string): StoredObject {
    const object = fixtureTemplate(resource);
    object.id = newId(idPrefix);
    if ("created" in object) object.created = this.now();
    if ("livemode" in object) object.livemode = false;
    if ("metadata" in object) object.metadata = {};
    return object as StoredObject;
  }

  store(kind: string, owner: string, object: StoredObject, extraCollections: string[] = []): StoredObject {
    this.objects.set(object.id, { object, owner, kind });
    this.collection(`${kind}:${owner}`).add(object);
    for (const key of extraCollections) this.collection(key).add(object);
    if (this.activeRequest && kind !== "event" && kind !== "balance_transaction")
      this.activeRequest.created.push(object.id);
    return object;
  }

  collection(key: string): OrderedCollection {
    let collection = this.collections.get(key);
    if (!collection) {
      collection = new OrderedCollection();
      this.collections.set(key, collection);
    }
    return collection;
  }

  /** The object if it exists on `owner` (Stripe-Account scoping), else Stripe's 404 resource_missing. */
  find(kind: string, id: string, owner: string, label = kind, param = "id"): StoredObject {
    const entry = this.objects.get(id);
    if (!entry || entry.kind !== kind || entry.owner !== owner) throw resourceMissing(label, id, param);
    return entry.object;
  }

  /** Lookup without scoping, for expansion and the control API. */
  lookup(id: string): IndexedObject | undefined {
    return this.objects.get(id);
  }

  ownerOf(id: string): string | undefined {
    return this.objects.get(id)?.owner;
  }

  /** Everything needed to rebuild this state in another process (see persistence.ts). */
  exportState(): SavedSimulatorState {
    const collections: Record<string, string[]> = {};
    for (const [key, collection] of this.collections)
      collections[key] = collection.all().map((item) => item.id);
    return {
      clockOffset: this.clock.offset,
      objects: [...this.objects.values()].map(({ object, owner, kind }) => ({ object, owner, kind })),
      collections,
      balances: this.balances.exportState(),
      openPayoutIds: [...this.openPayouts.keys()],
      paidOutBy: Object.fromEntries(this.paidOutBy),
      proportionalBases: Object.fromEntries(this.proportionalBases),
    };
  }

  importState(saved: SavedSimulatorState): void {
    this.objects.clear();
    this.collections.clear();
    this.openPayouts.clear();
    this.clock.offset = saved.clockOffset;
    for (const entry of saved.objects) this.objects.set(entry.object.id, entry);
    for (const [key, ids] of Object.entries(saved.collections)) {
      const collection = this.collection(key);
      for (const id of ids) {
        const entry = this.objects.get(id);
        if (entry) collection.add(entry.object);
      }
    }
    this.balances.importState(saved.balances);
    for (const id of saved.openPayoutIds) {
      const entry = this.objects.get(id);
      if (entry) this.openPayouts.set(id, entry.object);
    }
    this.paidOutBy.clear();
    this.awaitingPayout.clear();
    this.proportionalBases.clear();
    for (const [id, payout] of Object.entries(saved.paidOutBy ?? {})) this.paidOutBy.set(id, payout);
    for (const [key, value] of Object.entries(saved.proportionalBases ?? {}))
      this.proportionalBases.set(key, value);
    for (const { object, owner, kind } of saved.objects)
      if (kind === "balance_transaction" && !this.paidOutBy.has(object.id))
        this.awaitingPayoutSet(owner, String(object.currency)).add(object.id);
  }

  onEvent(listener: EventListener): void {
    this.eventListeners.push(listener);
  }

  /**
   * Records an event (Events API, scoped to the account it happened on) and hands it to the webhook
   * dispatcher. `data.object` is a snapshot, as Stripe's events are.
   */
  emit(type: string, object: StripeObject, owner: string, previousAttributes?: StripeObject): StoredObject {
    const request = this.activeRequest;
    // Built field by field (the keys of Stripe's example event) rather than cloned: the example
    // carries a whole plan object, and events are the most frequently built objects.
    const event: StoredObject = {
      id: newId("evt"),
      object: "event",
      api_version: request?.apiVersion ?? this.config.apiVersion,
      created: this.now(),
      data: {
        object: JSON.parse(JSON.stringify(object)),
        ...(previousAttributes ? { previous_attributes: previousAttributes } : {}),
      },
      livemode: false,
      pending_webhooks: this.pendingWebhooksPerEvent,
      request: { id: request?.id ?? null, idempotency_key: request?.idempotencyKey ?? null },
      type,
    };
    const connectedAccount = owner === this.platformAccountId ? undefined : owner;
    if (connectedAccount) event.account = connectedAccount;
    this.store("event", owner, event);
    for (const listener of this.eventListeners) listener(event, connectedAccount);
    return event;
  }

  /**
   * Creates a balance transaction on `owner` and moves its net (`amount` − fees) into the balance:
   * available now, or pending until `availableOn`. Every movement of money goes through here, so
   * an account's transactions always add up to its balance.
   */
  recordBalanceTransaction(input: {
    owner: string;
    amount: number;
    currency: string;
    type: string;
    reportingCategory: string;
    source: string | null;
    description?: string | null;
    feeDetails?: FeeDetail[];
    availableOn?: number;
  }): StoredObject {
    const now = this.now();
    const transaction = this.build("balance_transaction", "txn");
    const feeDetails = input.feeDetails ?? [];
    const fee = feeDetails.reduce((sum, detail) => sum + detail.amount, 0);
    const net = input.amount - fee;
    const availableOn = input.availableOn ?? now;
    const pending = availableOn > now;
    Object.assign(transaction, {
      amount: input.amount,
      currency: input.currency,
      description: input.description ?? null,
      fee,
      fee_details: feeDetails,
      net,
      available_on: availableOn,
      reporting_category: input.reportingCategory,
      source: input.source,
      status: pending ? "pending" : "available",
      type: input.type,
      balance_type: "payments",
      exchange_rate: null,
    });
    this.store("balance_transaction", input.owner, transaction);
    if (pending) this.balances.addPending(input.owner, input.currency, net, availableOn, transaction.id);
    else this.balances.adjustAvailable(input.owner, input.currency, net);
    this.awaitingPayoutSet(input.owner, input.currency).add(transaction.id);
    return transaction;
  }

  private awaitingPayoutSet(owner: string, currency: string): Set<string> {
    const key = `${owner} ${currency}`;
    let set = this.awaitingPayout.get(key);
    if (!set) {
      set = new Set();
      this.awaitingPayout.set(key, set);
    }
    return set;
  }

  /**
   * An automatic payout takes every available transaction that no earlier automatic payout took,
   * its own included, so the transactions listed for it add up to zero.
   */
  assignToAutomaticPayout(owner: string, currency: string, payoutId: string): void {
    const waiting = this.awaitingPayoutSet(owner, currency);
    for (const id of waiting) {
      const transaction = this.objects.get(id)?.object;
      if (transaction && transaction.status !== "available") continue;
      this.paidOutBy.set(id, payoutId);
      waiting.delete(id);
    }
  }

  automaticPayoutOf(transactionId: string): string | undefined {
    return this.paidOutBy.get(transactionId);
  }

  proportionalBase(key: string): number {
    return this.proportionalBases.get(key) ?? 0;
  }

  setProportionalBase(key: string, value: number): void {
    this.proportionalBases.set(key, value);
  }

  /** Marks pending balance transactions available once the clock passes their `available_on`. */
  releasePendingFunds(): void {
    for (const id of this.balances.releaseDue(this.now())) {
      const entry = this.objects.get(id);
      if (entry) entry.object.status = "available";
    }
  }
}
