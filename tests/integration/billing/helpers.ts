import { randomUUID } from "node:crypto";
import type { Db } from "@/db/client";
import { clients, usageRecords } from "@/db/schema";
import { usageIdentifier } from "@/lib/billing/usage";
import type { TestStripe } from "../../support/stripe";

/** An active client with a real (simulator) customer, inserted as the clients API leaves one. */
export async function makeActiveClient(db: Db, stripe: TestStripe, plan = "starter") {
  const customer = await stripe.gateway.createCustomer({
    email: "billing@client.example",
    name: "Client Co",
    idempotencyKey: `test-customer-${randomUUID()}`,
  });
  const [row] = await db
    .insert(clients)
    .values({
      name: "Client Co",
      email: "billing@client.example",
      plan,
      status: "active",
      stripeCustomerId: customer.id,
    })
    .returning();
  return row!;
}

/** `n` usage records for a client on a meter, spread over the hours after `from`. */
export async function insertUsage(
  db: Db,
  params: { clientId: string; customer: string; meter: string; n: number; from: Date },
) {
  const rows = Array.from({ length: params.n }, (_, i) => {
    const id = randomUUID();
    return {
      id,
      clientId: params.clientId,
      stripeCustomerId: params.customer,
      meterEventName: params.meter,
      quantity: 1 + (i % 5),
      occurredAt: new Date(params.from.getTime() + i * 60_000),
      identifier: usageIdentifier(id),
      source: "api" as const,
      requestKey: `k-${id}`,
    };
  });
  for (let i = 0; i < rows.length; i += 1000) await db.insert(usageRecords).values(rows.slice(i, i + 1000));
  return rows;
}

export const meterEventPosts = (stripe: TestStripe, since = 0) =>
  stripe.simulator.requests(since).filter((r) => r.endpoint === "POST /v1/billing/meter_events");

/** The simulator's accepted meter events, counted per identifier. */
export function eventsPerIdentifier(stripe: TestStripe): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of stripe.simulator.meterEvents())
    counts.set(String(e.identifier), (counts.get(String(e.identifier)) ?? 0) + 1);
  return counts;
}
