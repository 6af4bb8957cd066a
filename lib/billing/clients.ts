import { and, eq, type SQL, sql } from "drizzle-orm";
import type Stripe from "stripe";
import type { Db } from "../../db/client";
import {
  afterTableCursor,
  isUniqueViolation,
  newestFirst,
  type PageRequest,
  toPage,
  withCursorKey,
} from "../../db/paging";
import { type Client, clients } from "../../db/schema";
import type { Actor } from "../actor";
import { recordAudit } from "../audit";
import type { Env } from "../env";
import { DomainError, notFound } from "../errors";
import { errorText } from "../observability/log";
import type { CreateClientInput } from "../schemas/billing";
import type { StripeGateway } from "../stripe/gateway";
import { planOf, planPrices } from "./plans";

// Clients: companies Payrun bills on a plan (lib/billing/plans.ts), each with a Stripe customer and a
// subscription to the plan's prices. Creation is idempotent twice over: the caller's Idempotency-Key
// finds the row again, and each Stripe write carries a key derived from the row's id (stored first),
// so a create retried after any failure finishes what the first one started and makes nothing twice.

export type ClientGateway = Pick<
  StripeGateway,
  | "createCustomer"
  | "createCustomerSubscription"
  | "retrieveSubscription"
  | "changeSubscriptionPrices"
  | "setSubscriptionCancelAtPeriodEnd"
  | "cancelSubscription"
>;

/** Invoices of a subscription are sent, due this many days after they are issued. */
export const INVOICE_DAYS_UNTIL_DUE = 30;

const periodEndOf = (subscription: Stripe.Subscription): Date | null => {
  const end = subscription.items.data[0]?.current_period_end;
  return end ? new Date(end * 1000) : null;
};

const sameRequest = (client: Client, input: CreateClientInput) =>
  client.name === input.name && client.email === input.email && client.plan === input.plan;

/**
 * A client on `input.plan`: the row, its Stripe customer, its subscription. The same Idempotency-Key
 * answers with the same client (and finishes it if an earlier try stopped half way); with other
 * fields, a 409. `created` says whether this call made the row.
 */
export async function createClient(
  db: Db,
  gateway: ClientGateway,
  env: Pick<Env, "billingPlans">,
  params: { input: CreateClientInput; createKey: string; actor: Actor },
): Promise<{ client: Client; created: boolean }> {
  const { input } = params;
  planOf(env, input.plan);
  let created = false;
  let client: Client;
  try {
    client = await db.transaction(async (tx) => {
      const [row] = await tx
        .insert(clients)
        .values({ ...input, createKey: params.createKey })
        .onConflictDoNothing({ target: clients.createKey })
        .returning();
      if (row) {
        created = true;
        await recordAudit(tx, {
          actor: params.actor,
          action: "client.created",
          entityType: "client",
          entityId: row.id,
          after: row,
        });
        return row;
      }
      const [existing] = await tx.select().from(clients).where(eq(clients.createKey, params.createKey));
      if (!existing)
        throw new DomainError("conflict", "a request with this Idempotency-Key is in progress; retry");
      if (!sameRequest(existing, input))
        throw new DomainError(
          "conflict",
          "this Idempotency-Key was used to create another client; send a new key",
        );
      return existing;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new DomainError("conflict", "a client with this key exists");
    throw error;
  }
  return { client: await finishClient(db, gateway, env, client, params.actor), created };
}

/** Makes what a client in `creating` still lacks at Stripe: its customer, then its subscription. */
export async function finishClient(
  db: Db,
  gateway: ClientGateway,
  env: Pick<Env, "billingPlans">,
  client: Client,
  actor: Actor,
): Promise<Client> {
  if (client.status !== "creating") return client;
  const plan = planOf(env, client.plan);
  let current = client;
  try {
    if (!current.stripeCustomerId) {
      const customer = await gateway.createCustomer({
        email: current.email,
        name: current.name,
        metadata: { client_id: current.id },
        idempotencyKey: `client:${current.id}:customer`,
      });
      [current] = (await db
        .update(clients)
        .set({ stripeCustomerId: customer.id, updatedAt: new Date() })
        .where(eq(clients.id, current.id))
        .returning()) as [Client];
    }
    const subscription = await gateway.createCustomerSubscription({
      customer: current.stripeCustomerId!,
      prices: planPrices(plan),
      daysUntilDue: INVOICE_DAYS_UNTIL_DUE,
      metadata: { client_id: current.id, plan: current.plan },
      idempotencyKey: `client:${current.id}:subscription`,
    });
    return await db.transaction(async (tx) => {
      const [after] = await tx
        .update(clients)
        .set({
          status: subscription.status === "canceled" ? "canceled" : "active",
          stripeSubscriptionId: subscription.id,
          subscriptionStatus: subscription.status,
          currentPeriodEnd: periodEndOf(subscription),
          lastError: null,
          updatedAt: new Date(),
        })
        .where(eq(clients.id, current.id))
        .returning();
      await recordAudit(tx, {
        actor,
        action: "client.subscribed",
        entityType: "client",
        entityId: current.id,
        before: current,
        after,
      });
      return after!;
    });
  } catch (error) {
    await db
      .update(clients)
      .set({ lastError: errorText(error).slice(0, 500), updatedAt: new Date() })
      .where(eq(clients.id, current.id));
    throw error;
  }
}

export async function getClient(db: Db, id: string): Promise<Client> {
  const [row] = await db.select().from(clients).where(eq(clients.id, id));
  if (!row) throw notFound("client");
  return row;
}

export async function listClients(
  db: Db,
  params: PageRequest & { status?: Client["status"]; plan?: string },
) {
  const where: (SQL | undefined)[] = [afterTableCursor(clients, params.cursor)];
  if (params.status) where.push(eq(clients.status, params.status));
  if (params.plan) where.push(eq(clients.plan, params.plan));
  const rows = await db
    .select(withCursorKey(clients))
    .from(clients)
    .where(and(...where))
    .orderBy(...newestFirst(clients))
    .limit(params.limit + 1);
  return toPage(rows, params.limit);
}

function requireActive(client: Client): void {
  if (client.status !== "active" || !client.stripeSubscriptionId)
    throw new DomainError(
      "conflict",
      `client is ${client.status}${client.cancelAtPeriodEnd ? " (cancelling)" : ""}: only an active client can do this`,
    );
}

/**
 * Moves an active client to another plan: the old plan's items out of the subscription, the new
 * plan's prices in (Stripe prorates). The key names the change (client:<id>:plan:<n>:<plan>), so a
 * retry after a lost answer repeats the same request instead of making another.
 */
export async function changeClientPlan(
  db: Db,
  gateway: ClientGateway,
  env: Pick<Env, "billingPlans">,
  params: { id: string; plan: string; actor: Actor },
): Promise<Client> {
  const client = await getClient(db, params.id);
  const plan = planOf(env, params.plan);
  requireActive(client);
  if (client.plan === params.plan)
    throw new DomainError("conflict", `client is already on the ${params.plan} plan`);
  const subscription = await gateway.retrieveSubscription(client.stripeSubscriptionId!);
  const wanted = new Set(planPrices(plan));
  const updated = await gateway.changeSubscriptionPrices({
    subscription: subscription.id,
    removeItems: subscription.items.data.filter((item) => !wanted.has(item.price.id)).map((item) => item.id),
    addPrices: [...wanted].filter(
      (price) => !subscription.items.data.some((item) => item.price.id === price),
    ),
    metadata: { client_id: client.id, plan: params.plan },
    idempotencyKey: `client:${client.id}:plan:${client.planVersion + 1}:${params.plan}`,
  });
  return db.transaction(async (tx) => {
    const [after] = await tx
      .update(clients)
      .set({
        plan: params.plan,
        planVersion: sql`${clients.planVersion} + 1`,
        subscriptionStatus: updated.status,
        currentPeriodEnd: periodEndOf(updated),
        updatedAt: new Date(),
      })
      .where(and(eq(clients.id, client.id), eq(clients.planVersion, client.planVersion)))
      .returning();
    if (!after)
      throw new DomainError("conflict", "the client's plan changed meanwhile; reload and try again");
    await recordAudit(tx, {
      actor: params.actor,
      action: "client.plan_changed",
      entityType: "client",
      entityId: client.id,
      before: client,
      after,
    });
    return after;
  });
}

/** Cancels a client's subscription now, or at the end of the paid period (atPeriodEnd). */
export async function cancelClient(
  db: Db,
  gateway: ClientGateway,
  params: { id: string; reason: string; atPeriodEnd: boolean; actor: Actor },
): Promise<Client> {
  const client = await getClient(db, params.id);
  requireActive(client);
  if (params.atPeriodEnd && client.cancelAtPeriodEnd)
    throw new DomainError("conflict", "client is already cancelling at the period's end");
  const subscription = params.atPeriodEnd
    ? await gateway.setSubscriptionCancelAtPeriodEnd(
        client.stripeSubscriptionId!,
        true,
        `client:${client.id}:cancel_at_period_end`,
      )
    : await gateway.cancelSubscription(client.stripeSubscriptionId!, `client:${client.id}:cancel`);
  return db.transaction(async (tx) => {
    const [after] = await tx
      .update(clients)
      .set({
        status: subscription.status === "canceled" ? "canceled" : client.status,
        subscriptionStatus: subscription.status,
        cancelAtPeriodEnd: subscription.cancel_at_period_end,
        canceledAt: subscription.canceled_at ? new Date(subscription.canceled_at * 1000) : new Date(),
        updatedAt: new Date(),
      })
      .where(eq(clients.id, client.id))
      .returning();
    await recordAudit(tx, {
      actor: params.actor,
      action: params.atPeriodEnd ? "client.cancel_scheduled" : "client.canceled",
      entityType: "client",
      entityId: client.id,
      before: client,
      after,
      reason: params.reason,
    });
    return after!;
  });
}

/**
 * customer.subscription.* from Stripe: the client of the subscription (by its stored id, else the
 * client_id Payrun put in its metadata) takes Stripe's status, period and cancellation. An event
 * older than what the row holds changes nothing. Null: not a client's subscription.
 */
export async function applySubscriptionEvent(
  tx: Db,
  subscription: Stripe.Subscription,
  params: { occurredAt: Date; actor: Actor },
): Promise<"applied" | "unknown"> {
  const metadataId = subscription.metadata?.client_id;
  const [client] = await tx
    .select()
    .from(clients)
    .where(
      metadataId && /^[0-9a-f-]{36}$/i.test(metadataId)
        ? sql`${clients.stripeSubscriptionId} = ${subscription.id} or ${clients.id} = ${metadataId}::uuid`
        : eq(clients.stripeSubscriptionId, subscription.id),
    )
    .for("update");
  if (!client) return "unknown";
  if (client.stripeStateAt && client.stripeStateAt > params.occurredAt) return "applied";
  const canceled = subscription.status === "canceled";
  const [after] = await tx
    .update(clients)
    .set({
      stripeSubscriptionId: client.stripeSubscriptionId ?? subscription.id,
      subscriptionStatus: subscription.status,
      status: canceled ? "canceled" : client.status === "creating" ? "active" : client.status,
      currentPeriodEnd: periodEndOf(subscription) ?? client.currentPeriodEnd,
      cancelAtPeriodEnd: subscription.cancel_at_period_end,
      canceledAt: subscription.canceled_at ? new Date(subscription.canceled_at * 1000) : client.canceledAt,
      stripeStateAt: params.occurredAt,
      updatedAt: new Date(),
    })
    .where(eq(clients.id, client.id))
    .returning();
  if (client.subscriptionStatus !== after!.subscriptionStatus || client.status !== after!.status)
    await recordAudit(tx, {
      actor: params.actor,
      action: "client.subscription_synced",
      entityType: "client",
      entityId: client.id,
      before: client,
      after,
    });
  return "applied";
}

/** invoice.* / payment_intent.* for a client's customer: its latest invoice and payment state. */
export async function applyClientBillingEvent(
  tx: Db,
  params: {
    customer: string | null;
    invoiceId?: string;
    invoiceStatus?: string;
    paymentError?: string | null;
    occurredAt: Date;
  },
): Promise<"applied" | "unknown"> {
  if (!params.customer) return "unknown";
  const [client] = await tx.select().from(clients).where(eq(clients.stripeCustomerId, params.customer));
  if (!client) return "unknown";
  await tx
    .update(clients)
    .set({
      ...(params.invoiceId
        ? { latestInvoiceId: params.invoiceId, latestInvoiceStatus: params.invoiceStatus ?? null }
        : {}),
      ...(params.paymentError !== undefined ? { lastPaymentError: params.paymentError } : {}),
      updatedAt: new Date(),
    })
    .where(eq(clients.id, client.id));
  return "applied";
}
