import type { sql } from "drizzle-orm";
import { type Db, queryRows } from "@/db/client";
import { payees, placements } from "@/db/schema";
import { systemActor } from "@/lib/actor";
import { createPlacement } from "@/lib/placements/crud";
import type { TestStripe } from "../../support/stripe";

export const DAY_MS = 24 * 3600_000;
export const admin = {
  type: "user" as const,
  id: "00000000-0000-4000-8000-0000000000ad",
  role: "platform_admin" as const,
};

export async function makePayee(db: Db, name = "Rita Recruiter") {
  const [p] = await db
    .insert(payees)
    .values({
      displayName: name,
      email: `${name.replace(/\W/g, "").toLowerCase()}${Math.random()}@example.com`,
    })
    .returning();
  return p!;
}

export async function makeCustomer(stripe: TestStripe, name = "Acme Corp") {
  const customer = await stripe.gateway.createCustomer({
    email: "billing@acme.example",
    name,
    idempotencyKey: `cus-${name}-${Math.random()}`,
  });
  return customer.id;
}

/** An active placement whose guarantee ended a day before `now` (dates in UTC). */
export async function makeExpiredPlacement(
  db: Db,
  params: {
    payeeId: string;
    customer: string;
    feeCents?: number;
    shareCents?: number;
    startDaysAgo?: number;
  },
) {
  const start = new Date(Date.now() - (params.startDaysAgo ?? 31) * DAY_MS).toISOString().slice(0, 10);
  return createPlacement(db, {
    input: {
      payeeId: params.payeeId,
      clientStripeCustomerId: params.customer,
      candidateName: "Grace Hopper",
      feeCents: params.feeCents ?? 20_000,
      payeeShareCents: params.shareCents ?? 15_000,
      currency: "usd",
      startDate: start,
      guaranteeDays: 30,
    },
    actor: admin,
    timeZone: "UTC",
  });
}

export async function count(db: Db, query: ReturnType<typeof sql>) {
  const [row] = await queryRows<{ n: string | number }>(db, query);
  return Number(row?.n ?? 0);
}

export const sweepActor = systemActor("test");
export { placements };
