import { sql } from "drizzle-orm";
import type Stripe from "stripe";
import * as quoteRoute from "@/app/api/v1/payees/[id]/instant-payouts/quote/route";
import * as instantRoute from "@/app/api/v1/payees/[id]/instant-payouts/route";
import { POST as sweepRoute } from "@/app/internal/sweeps/instant-payouts/route";
import { type Db, queryRows } from "@/db/client";
import { apiRequest, routeParams, tokenFor } from "../../support/auth";
import type { TestStripe } from "../../support/stripe";
import { internalRequest, routeCtx } from "../payouts/helpers";
import { deliver } from "../webhooks/helpers";

export type Quote = {
  amountCents: number;
  feeCents: number;
  netCents: number;
  maxAmountCents: number;
  eligible: boolean;
  reason: string | null;
  card: { last4: string | null } | null;
};
export type InstantBody = {
  id: string;
  status: string;
  amountCents: number;
  feeCents: number;
  netCents: number;
  failureCode: string | null;
  failureMessage: string | null;
};

export const payeeToken = (payeeId: string) => tokenFor("payee", { payeeId });

export async function quote(payeeId: string, token: string, query = "") {
  const res = await quoteRoute.GET(
    apiRequest("GET", `/api/v1/payees/${payeeId}/instant-payouts/quote${query}`, { token }),
    routeParams({ id: payeeId }),
  );
  return {
    status: res.status,
    body: (await res.json()) as Quote & { error?: { code: string; message: string } },
  };
}

export async function take(payeeId: string, token: string, body: unknown) {
  const res = await instantRoute.POST(
    apiRequest("POST", `/api/v1/payees/${payeeId}/instant-payouts`, { token, body }),
    routeParams({ id: payeeId }),
  );
  return {
    status: res.status,
    body: (await res.json()) as InstantBody & { error?: { code: string; message: string } },
  };
}

/** Quote, then confirm exactly what the quote showed. */
export async function quoteAndTake(
  payeeId: string,
  token: string,
  requestKey = `rk-${Math.random().toString(36).slice(2, 12)}`,
) {
  const q = await quote(payeeId, token);
  return take(payeeId, token, {
    currency: "usd",
    amountCents: q.body.amountCents,
    expectedFeeCents: q.body.feeCents,
    requestKey,
  });
}

export async function sweep() {
  const res = await sweepRoute(internalRequest("POST", "/internal/sweeps/instant-payouts", {}), routeCtx());
  return (await res.json()) as { processed: number; skipped: number; failed: number; remaining: number };
}

/** Payout events of the connected accounts, delivered through the real intake once each. */
export function payoutEvents(db: Db, ts: TestStripe) {
  const seen = new Set<string>();
  return async (account: string) => {
    const page = await ts.stripe.events.list({ limit: 100 }, { stripeAccount: account });
    const fresh = page.data
      .filter((e: Stripe.Event) => e.type.startsWith("payout.") && !seen.has(e.id))
      .reverse();
    const out: string[] = [];
    for (const event of fresh) {
      seen.add(event.id);
      const result = await deliver(db, event, { gateway: () => ts.gateway });
      out.push(`${event.type}:${result.status}`);
    }
    return out;
  };
}

/** Successful POST /v1/payouts with method=instant at the simulator, by our payout row id. */
export function instantPayoutsAtStripe(ts: TestStripe, payoutId?: string) {
  return ts.simulator
    .requests(0, 1_000_000)
    .filter((r) => r.endpoint === "POST /v1/payouts" && r.status < 400)
    .flatMap((r) => r.createdIds.filter((id) => id.startsWith("po_")))
    .filter((id, i, all) => all.indexOf(id) === i)
    .map((id) => ts.simulator.getObject(id)!)
    .filter(
      (po) =>
        po.method === "instant" &&
        (!payoutId || (po.metadata as Record<string, string>).payout_id === payoutId),
    );
}

/** Transfers (platform → account, and account debits) Stripe made for one payout row. */
export function transfersAtStripe(ts: TestStripe, payoutId: string) {
  return ts.simulator
    .requests(0, 1_000_000)
    .filter((r) => r.endpoint === "POST /v1/transfers" && r.status < 400)
    .flatMap((r) => r.createdIds.filter((id) => id.startsWith("tr_")))
    .filter((id, i, all) => all.indexOf(id) === i)
    .map((id) => ts.simulator.getObject(id)!)
    .filter((tr) => (tr.metadata as Record<string, string>).payout_id === payoutId);
}

export async function counts(db: Db) {
  const [row] = await queryRows<{ payouts: string; tx: string; audit: string }>(
    db,
    sql`select (select count(*) from payouts) as payouts, (select count(*) from ledger_transactions) as tx,
               (select count(*) from audit_log) as audit`,
  );
  return { payouts: Number(row!.payouts), tx: Number(row!.tx), audit: Number(row!.audit) };
}
