import type { Db } from "../../db/client";
import { connectedAccounts } from "../../db/schema";
import { DomainError } from "../errors";
import { ingestStripeEvent, type IntakeStatus } from "./ingest";
import type { HandlerContext, StripeEvent } from "./types";

/** Stripe keeps events for 30 days; a longer window would silently miss the oldest part. */
export const MAX_BACKFILL_DAYS = 30;

export type EventsApiGateway = {
  listEvents(input: {
    createdGte?: number;
    createdLte?: number;
    limit?: number;
    startingAfter?: string;
    stripeAccount?: string;
  }): Promise<{ data: unknown[]; has_more: boolean }>;
};

export type BackfillResult = { scanned: number; accounts: number; byStatus: Record<IntakeStatus, number> };

/**
 * Read Stripe's Events API for [since, until] (the platform's events, then each connected account's)
 * and feed every event through the same intake as a webhook: stored once, applied once, so events a
 * webhook outage missed get applied and those already here answer duplicate. Oldest first per
 * account, so state arrives in the order Stripe saw it where that matters.
 */
export async function backfillStripeEvents(
  db: Db,
  eventsApi: EventsApiGateway,
  options: { since: Date; until: Date; env: HandlerContext["env"]; gateway: HandlerContext["gateway"]; includeConnected?: boolean },
): Promise<BackfillResult> {
  const spanDays = (options.until.getTime() - options.since.getTime()) / 86_400_000;
  if (!(spanDays > 0)) throw new DomainError("invalid_input", "--since must be before --until");
  if (spanDays > MAX_BACKFILL_DAYS) throw new DomainError("invalid_input", `window is ${spanDays.toFixed(1)} days; at most ${MAX_BACKFILL_DAYS}`);

  const accounts: (string | undefined)[] = [undefined];
  if (options.includeConnected !== false) {
    const rows = await db.select({ id: connectedAccounts.stripeAccountId }).from(connectedAccounts);
    accounts.push(...rows.map((r) => r.id));
  }
  const result: BackfillResult = {
    scanned: 0,
    accounts: accounts.length,
    byStatus: { processed: 0, duplicate: 0, ignored: 0, pending: 0, failed: 0 },
  };
  for (const stripeAccount of accounts) {
    const events = await listWindow(eventsApi, options.since, options.until, stripeAccount);
    for (const event of events) {
      result.scanned++;
      const intake = await ingestStripeEvent(db, event, {
        env: options.env,
        gateway: options.gateway,
        source: "events_api_backfill",
        trigger: "backfill",
      });
      result.byStatus[intake.status]++;
    }
  }
  return result;
}

async function listWindow(api: EventsApiGateway, since: Date, until: Date, stripeAccount?: string): Promise<StripeEvent[]> {
  const events: StripeEvent[] = [];
  let startingAfter: string | undefined;
  for (;;) {
    const page = await api.listEvents({
      createdGte: Math.floor(since.getTime() / 1000),
      createdLte: Math.floor(until.getTime() / 1000),
      limit: 100,
      startingAfter,
      stripeAccount,
    });
    for (const raw of page.data as StripeEvent[]) {
      // Read through the Stripe-Account header: the account is implied, make it explicit as a webhook would.
      events.push(stripeAccount && !raw.account ? { ...raw, account: stripeAccount } : raw);
    }
    const last = page.data.at(-1) as StripeEvent | undefined;
    if (!page.has_more || !last) break;
    startingAfter = last.id;
  }
  // The API lists newest first.
  return events.sort((a, b) => a.created - b.created || a.id.localeCompare(b.id));
}
