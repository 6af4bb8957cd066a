import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../../db/client";
import { connectedAccounts, payees } from "../../../db/schema";
import type { Env } from "../../../lib/env";
import { receiveStripeWebhook } from "../../../lib/webhooks/ingest";
import type { StripeEvent, WebhookGateway } from "../../../lib/webhooks/types";
import { buildEvent, signedDelivery, testWebhookSecrets } from "../../support/stripe-events";

export const handlerEnv: Pick<
  Env,
  "PAYOUT_RESERVE_PERCENT" | "PAYOUT_RESERVE_DAYS" | "PAYEE_RECOVERY_POLICY"
> = {
  PAYOUT_RESERVE_PERCENT: 0,
  PAYOUT_RESERVE_DAYS: 30,
  PAYEE_RECOVERY_POLICY: "reverse_transfer",
};

/** Most events never call Stripe; one that tries to, fails the test loudly. */
export const noStripe = (): WebhookGateway => {
  throw new Error("this event should not call Stripe");
};

/** Deliver an event as Stripe would: signed, through the same function the route calls. */
export async function deliver(
  db: Db,
  event: StripeEvent,
  options: { env?: typeof handlerEnv; gateway?: () => WebhookGateway } = {},
) {
  const { body, signature } = signedDelivery(event);
  return receiveStripeWebhook(
    db,
    { rawBody: body, signature },
    { env: options.env ?? handlerEnv, gateway: options.gateway ?? noStripe, secrets: testWebhookSecrets },
  );
}

export async function createPayeeWithAccount(db: Db, stripeAccountId: string) {
  const [payee] = await db
    .insert(payees)
    .values({ displayName: `Payee ${stripeAccountId}`, email: `${stripeAccountId}@example.com` })
    .returning();
  const [account] = await db
    .insert(connectedAccounts)
    .values({ payeeId: payee!.id, stripeAccountId })
    .returning();
  return { payeeId: payee!.id, connectedAccountId: account!.id };
}

export async function eventRow(db: Db, eventId: string) {
  const [row] = await queryRows<{
    id: string;
    status: string;
    attempts: number;
    last_error: string | null;
    replay_requested: boolean;
    last_replay_error: string | null;
  }>(
    db,
    sql`select id, status, attempts, last_error, replay_requested, last_replay_error from processor_events where event_id = ${eventId}`,
  );
  return row;
}

export async function countRows(db: Db, table: string): Promise<number> {
  const [row] = await queryRows<{ n: string | number }>(db, sql`select count(*) as n from ${sql.raw(table)}`);
  return Number(row!.n);
}

/** account.updated for `acct`, with the manual payout schedule Payrun keeps unless `patch` says otherwise. */
export function accountUpdated(
  acct: string,
  patch: Record<string, unknown> = {},
  options: { created?: number; id?: string } = {},
) {
  return buildEvent(
    "account.updated",
    "account",
    { id: acct, settings: { payouts: { schedule: { interval: "manual", delay_days: 2 } } }, ...patch },
    { account: acct, ...options },
  );
}
