import { sql } from "drizzle-orm";
import type Stripe from "stripe";
import { type Db, queryRows } from "../../db/client";
import { toCents } from "../money";
import { MAX_PAYOUT_ATTEMPTS } from "../payouts/execute";
import { earningKey } from "../earnings/lookup";
import { loadEnv } from "../env";
import { listOpenBreaks } from "../reconciliation/breaks";
import { reconcileNow } from "../reconciliation/pass";
import { createStripeClient } from "../stripe/client";
import { createStripeGateway } from "../stripe/gateway";
import type { WorldFacts } from "./schedule";

// What must hold after every schedule, read from outside the code under test: Stripe's side from
// the simulator's request log and objects, Payrun's from its tables. Each check returns the
// violations it found as sentences naming the row and the numbers.

type PayoutRow = {
  id: string;
  run_id: string;
  cycle_key: string;
  payee_id: string;
  stripe_account_id: string | null;
  amount_cents: string | number;
  transfer_amount_cents: string | number;
  status: string;
  failure_code: string | null;
  retries: number;
  attempts: number;
  stripe_payout_id: string | null;
  stripe_transfer_id: string | null;
};

type StripeMoney = { id: string; account: string | undefined; amount: number; status: string; payoutId?: string; runId?: string };

const LIVE = new Set(["pending", "in_transit", "paid"]);

/** Every transfer and payout the simulator created, with the account it was made on. */
function stripeMoney(facts: WorldFacts) {
  const log = facts.simulator.requests(0, Number.MAX_SAFE_INTEGER);
  const created = (endpoint: string, prefix: string) =>
    log
      .filter((r) => r.endpoint === endpoint && r.status < 400)
      .flatMap((r) => r.createdIds.filter((id) => id.startsWith(prefix)).map((id) => ({ id, account: r.account })));
  const unique = <T extends { id: string }>(items: T[]) => [...new Map(items.map((i) => [i.id, i])).values()];
  const payouts: StripeMoney[] = unique(created("POST /v1/payouts", "po_")).map(({ id, account }) => {
    const o = facts.simulator.getObject(id) as unknown as Stripe.Payout;
    return { id, account, amount: o.amount, status: o.status, payoutId: o.metadata?.payout_id, runId: o.metadata?.run_id };
  });
  const transfers = unique(created("POST /v1/transfers", "tr_")).map(({ id }) => {
    const o = facts.simulator.getObject(id) as unknown as Stripe.Transfer;
    const destination = typeof o.destination === "string" ? o.destination : (o.destination?.id ?? null);
    return { id, amount: o.amount, reversed: o.reversed, destination, payoutId: o.metadata?.payout_id ?? o.transfer_group ?? undefined };
  });
  return { log, payouts, transfers };
}

/**
 * The books against Stripe after the storm, through Payrun's own reconciliation (so not independent
 * like the checks above, but over every object and balance at once): with Stripe's faults off, one
 * pass with no grace finds no break.
 */
export async function reconciliationBreaks(db: Db, facts: WorldFacts): Promise<string[]> {
  facts.simulator.setFaults({});
  const stripe = createStripeClient({ secretKey: "sk_test_simulator", apiBaseUrl: facts.simulator.url, maxNetworkRetries: 0, timeoutMs: 30_000 });
  await reconcileNow(db, createStripeGateway(stripe), loadEnv({ RECON_GRACE_SECONDS: "0" }));
  return (await listOpenBreaks(db, { limit: 50 })).map(
    (b) => `reconciliation: ${b.kind} on ${b.account} ${b.stripeObject ?? "balance"} (${b.currency}): Stripe ${b.stripeAmount}, ledger ${b.ledgerAmount}`,
  );
}

export async function checkInvariants(db: Db, facts: WorldFacts): Promise<string[]> {
  const violations: string[] = [...facts.stuck.map((s) => `liveness: ${s}`)];
  const { log, payouts: stripePayouts, transfers } = stripeMoney(facts);

  // The ledger balances: every transaction, and so the whole ledger, sums to zero per currency.
  const unbalanced = await queryRows<{ transaction_id: string; currency: string; total: string }>(
    db,
    sql`select transaction_id, currency, sum(amount)::bigint as total from ledger_entries group by transaction_id, currency having sum(amount) <> 0`,
  );
  for (const u of unbalanced) violations.push(`ledger: transaction ${u.transaction_id} sums to ${u.total} ${u.currency}`);

  // No run left planning or executing once the schedule has quiesced.
  const open = await queryRows<{ cycle_key: string; status: string }>(
    db,
    sql`select cycle_key, status from payout_runs where status in ('planning', 'executing')`,
  );
  for (const r of open) violations.push(`run ${r.cycle_key} left ${r.status}`);

  const rows = await queryRows<PayoutRow>(
    db,
    sql`select p.id, p.run_id, r.cycle_key, p.payee_id, p.stripe_account_id, p.amount_cents, p.transfer_amount_cents, p.status,
               p.failure_code, p.retries, p.attempts, p.stripe_payout_id, p.stripe_transfer_id
        from payouts p join payout_runs r on r.id = p.run_id where p.status <> 'skipped' order by p.id`,
  );
  const byPayout = <T extends { payoutId?: string }>(items: T[], id: string) => items.filter((i) => i.payoutId === id);

  for (const row of rows) {
    const amount = toCents(row.amount_cents);
    const transferAmount = toCents(row.transfer_amount_cents);
    const name = `payout ${row.id} (${row.cycle_key}, ${row.status})`;
    const all = byPayout(stripePayouts, row.id);
    const live = all.filter((p) => LIVE.has(p.status));
    // At most one Stripe payout per generation (the first attempt and each ops retry), one alive.
    if (all.length > row.retries + 1) violations.push(`${name}: ${all.length} Stripe payouts for ${row.retries + 1} generation(s): ${all.map((p) => p.id).join(", ")}`);
    if (live.length > 1) violations.push(`${name}: paid out ${live.length} times at Stripe: ${live.map((p) => `${p.id} ${p.amount}`).join(", ")}`);
    const sent = byPayout(transfers, row.id);
    if (sent.length > 1) violations.push(`${name}: ${sent.length} transfers at Stripe: ${sent.map((t) => t.id).join(", ")}`);
    if (transferAmount === 0 && sent.length > 0) violations.push(`${name}: a transfer at Stripe for a payout that needed none`);

    if (row.status === "in_transit" || row.status === "paid") {
      const [po] = live;
      if (!po) violations.push(`${name}: the ledger says it was sent, but Stripe holds no live payout for it`);
      else {
        if (po.amount !== amount) violations.push(`${name}: Stripe paid ${po.amount}, the ledger ${amount}`);
        if (po.account !== row.stripe_account_id) violations.push(`${name}: paid on ${po.account}, the payee's account is ${row.stripe_account_id}`);
        if (row.stripe_payout_id !== po.id) violations.push(`${name}: stores ${row.stripe_payout_id}, Stripe's payout is ${po.id}`);
        if ((po.status === "paid") !== (row.status === "paid")) violations.push(`${name}: Stripe says ${po.status} after every webhook was delivered`);
      }
      if (transferAmount > 0) {
        const [tr] = sent;
        if (!tr || tr.reversed) violations.push(`${name}: needed a transfer of ${transferAmount}, Stripe has ${tr ? "a reversed one" : "none"}`);
        else if (tr.amount !== transferAmount) violations.push(`${name}: transfer of ${tr.amount} for ${transferAmount}`);
      }
    } else if (row.status === "failed") {
      if (live.length > 0) violations.push(`${name}: failed in the ledger, but Stripe payout ${live[0]!.id} (${live[0]!.status}) took the money`);
    } else {
      violations.push(`${name}: left ${row.status}`);
    }

    // No payout failed for attempts it did not make: every claim counted as an attempt made a Stripe
    // request for it (its idempotency keys, or payout lookups on its account), and the last one met
    // retryable errors until it gave up (callStripe's 1 + 5 tries).
    if (row.status === "failed" && row.failure_code === "retries_exhausted") {
      const mine = log.filter(
        (r) => r.idempotencyKey?.startsWith(`payout:${row.id}:`) || (r.endpoint === "GET /v1/payouts" && r.account === row.stripe_account_id),
      );
      const retryable = mine.filter((r) => r.status === 0 || r.status === 429 || r.status >= 500 || r.fault !== undefined).length;
      if (mine.length < row.attempts || retryable < 6) {
        violations.push(
          `${name}: failed as retries_exhausted after ${row.attempts} claims (MAX_PAYOUT_ATTEMPTS ${MAX_PAYOUT_ATTEMPTS}), but made ${mine.length} Stripe request(s) for it, ${retryable} answered with a retryable error`,
        );
      }
    }
  }

  // Attempts are real: one slice (one executor, the lease owner in the claim's audit row) claims a
  // payout once, or twice if a retryable error gave it back with a delay; more means it handed the
  // payout back and took it again at once, counting attempts it never made at Stripe.
  const hotClaims = await queryRows<{ payout_id: string; owner: string; claims: string; attempts: string }>(
    db,
    sql`select entity_id as payout_id, after->>'leaseOwner' as owner, count(*) as claims, max((after->>'attempts')::int) as attempts
        from audit_log where action in ('payout.claimed', 'payout.reclaimed') and entity_type = 'payout'
        group by entity_id, after->>'leaseOwner' having count(*) > 2 order by count(*) desc`,
  );
  for (const h of hotClaims.slice(0, 5)) {
    violations.push(`payout ${h.payout_id}: claimed ${h.claims} times by one slice (${h.owner}), its attempts counted up to ${h.attempts}`);
  }
  if (hotClaims.length > 5) violations.push(`... and ${hotClaims.length - 5} more payouts claimed more than twice by one slice`);

  // Per payee and cycle: what Stripe paid for the run equals what the ledger says was sent.
  const sentByRunPayee = new Map<string, number>();
  for (const row of rows) {
    if (row.status !== "in_transit" && row.status !== "paid") continue;
    const key = `${row.run_id}|${row.stripe_account_id}`;
    sentByRunPayee.set(key, (sentByRunPayee.get(key) ?? 0) + toCents(row.amount_cents));
  }
  const paidByRunPayee = new Map<string, number>();
  for (const po of stripePayouts) {
    if (!LIVE.has(po.status) || !po.runId) continue;
    const key = `${po.runId}|${po.account}`;
    paidByRunPayee.set(key, (paidByRunPayee.get(key) ?? 0) + po.amount);
  }
  for (const key of new Set([...sentByRunPayee.keys(), ...paidByRunPayee.keys()])) {
    if ((sentByRunPayee.get(key) ?? 0) !== (paidByRunPayee.get(key) ?? 0)) {
      violations.push(`run|account ${key}: Stripe paid ${paidByRunPayee.get(key) ?? 0}, the ledger says ${sentByRunPayee.get(key) ?? 0}`);
    }
  }

  // Instant payouts (lib/instant-payouts): each made at Stripe once whatever the faults (its transfer,
  // the account debit of its fee, its method=instant payout), and what the ledger stored is Stripe's.
  const instantRows = await queryRows<{
    id: string;
    stripe_account_id: string;
    amount_cents: string | number;
    transfer_amount_cents: string | number;
    fee_debit_cents: string | number;
    status: string;
    stripe_payout_id: string | null;
  }>(
    db,
    sql`select id, stripe_account_id, amount_cents, transfer_amount_cents, fee_debit_cents, status, stripe_payout_id
        from payouts where origin = 'instant' order by id`,
  );
  for (const row of instantRows) {
    const name = `instant payout ${row.id} (${row.status})`;
    const all = byPayout(stripePayouts, row.id);
    if (all.length > 1) violations.push(`${name}: ${all.length} Stripe payouts: ${all.map((p) => p.id).join(", ")}`);
    const mine = byPayout(transfers, row.id);
    const toAccount = mine.filter((t) => t.destination === row.stripe_account_id);
    const debits = mine.filter((t) => t.destination !== row.stripe_account_id);
    if (toAccount.length > 1) violations.push(`${name}: ${toAccount.length} transfers to the account`);
    if (debits.length > 1) violations.push(`${name}: ${debits.length} account debits of its fee`);
    for (const t of toAccount) if (t.amount !== toCents(row.transfer_amount_cents)) violations.push(`${name}: transfer of ${t.amount} for ${row.transfer_amount_cents}`);
    for (const d of debits) if (d.amount !== toCents(row.fee_debit_cents)) violations.push(`${name}: fee debit of ${d.amount} for ${row.fee_debit_cents}`);
    const [po] = all;
    if (row.status === "in_transit" || row.status === "paid") {
      if (!po) violations.push(`${name}: the ledger says it was sent, but Stripe has no payout for it`);
      else {
        const method = (facts.simulator.getObject(po.id) as { method?: string } | undefined)?.method;
        if (po.amount !== toCents(row.amount_cents)) violations.push(`${name}: Stripe paid ${po.amount}, the ledger ${row.amount_cents}`);
        if (method !== "instant") violations.push(`${name}: Stripe's payout ${po.id} has method ${method}`);
        if (row.stripe_payout_id !== po.id) violations.push(`${name}: stores ${row.stripe_payout_id}, Stripe's payout is ${po.id}`);
        if ((po.status === "paid") !== (row.status === "paid")) violations.push(`${name}: Stripe says ${po.status} after every webhook was delivered`);
      }
    } else if (row.status === "failed") {
      if (po && LIVE.has(po.status)) violations.push(`${name}: failed in the ledger, but Stripe payout ${po.id} (${po.status}) took the money`);
    } else {
      violations.push(`${name}: left ${row.status}`);
    }
  }

  // Per payee: the ledger's in_transit and paid buckets are what Stripe holds as pending and paid.
  const balances = await queryRows<{ payee_id: string; kind: string; balance: string }>(
    db,
    sql`select a.payee_id, a.kind, coalesce(sum(e.amount), 0)::bigint as balance
        from ledger_accounts a left join ledger_entries e on e.account_id = a.id
        where a.owner_type = 'payee' group by a.payee_id, a.kind`,
  );
  const balance = (payeeId: string, kind: string) => toCents(balances.find((b) => b.payee_id === payeeId && b.kind === kind)?.balance ?? 0);
  for (const payee of facts.payees) {
    const mine = stripePayouts.filter((p) => p.account === payee.accountId && p.payoutId);
    const stripePaid = mine.filter((p) => p.status === "paid").reduce((s, p) => s + p.amount, 0);
    const stripeOpen = mine.filter((p) => p.status === "pending" || p.status === "in_transit").reduce((s, p) => s + p.amount, 0);
    if (balance(payee.id, "paid") !== stripePaid) violations.push(`payee ${payee.id}: ledger paid ${balance(payee.id, "paid")}, Stripe paid ${stripePaid}`);
    if (balance(payee.id, "in_transit") !== stripeOpen) {
      violations.push(`payee ${payee.id}: ledger in transit ${balance(payee.id, "in_transit")}, Stripe has ${stripeOpen} on its way`);
    }
    // held is exactly the funded holds still active (manual, rolling reserve, disputes)
    const [held] = await queryRows<{ total: string }>(
      db,
      sql`select coalesce(sum(amount_cents), 0)::bigint as total from escrow_holds
          where payee_id = ${payee.id} and status = 'active' and hold_ledger_transaction_id is not null`,
    );
    if (balance(payee.id, "held") !== toCents(held?.total ?? 0)) {
      violations.push(`payee ${payee.id}: ledger held ${balance(payee.id, "held")}, active funded holds ${held?.total}`);
    }
  }

  // Webhooks under duplicates and reordering: each charge credited once, each refund taken once.
  for (const charge of facts.charges) {
    const earnings = await queryRows<{ credited: string }>(
      db,
      sql`select (select coalesce(sum(e.amount), 0) from ledger_entries e join ledger_accounts a on a.id = e.account_id
                  where e.transaction_id = t.id and a.owner_type = 'payee')::bigint as credited
          from ledger_transactions t where t.idempotency_key = ${earningKey(charge.paymentIntentId)}`,
    );
    if (earnings.length !== 1) violations.push(`charge ${charge.paymentIntentId}: credited ${earnings.length} times`);
    else if (toCents(earnings[0]!.credited) !== charge.grossCents - charge.feeCents) {
      violations.push(`charge ${charge.paymentIntentId}: credited ${earnings[0]!.credited}, net is ${charge.grossCents - charge.feeCents}`);
    }
    const refunded = Number((facts.simulator.getObject(charge.chargeId) as { amount_refunded?: number } | undefined)?.amount_refunded ?? 0);
    const [taken] = await queryRows<{ total: string }>(
      db,
      // One posting per Stripe refund, and one giving it back if it failed (lib/earnings/refunds.ts).
      sql`select coalesce(sum(case when kind = 'refund_failed' then -1 else 1 end * (metadata->>'refund_cents')::bigint), 0)::bigint as total
          from ledger_transactions
          where kind in ('refund', 'refund_failed') and metadata->>'charge' = ${charge.chargeId}`,
    );
    if (toCents(taken?.total ?? 0) !== refunded) violations.push(`charge ${charge.chargeId}: Stripe refunded ${refunded}, the ledger took back ${taken?.total}`);
  }
  // Placements: one Stripe invoice each, and a paid one credits the payee's share exactly once.
  const invoices = log
    .filter((r) => r.endpoint === "POST /v1/invoices" && r.status < 400)
    .flatMap((r) => r.createdIds.filter((id) => id.startsWith("in_")));
  const invoiceObjects = [...new Set(invoices)].map((id) => facts.simulator.getObject(id) as unknown as Stripe.Invoice);
  const placements = await queryRows<{ id: string; share: string; schedule_status: string | null; credits: string; credited: string | null }>(
    db,
    sql`select p.id, p.payee_share_cents as share, s.status as schedule_status,
               (select count(*) from ledger_transactions t where t.idempotency_key = 'payout_schedule:' || s.id) as credits,
               (select sum(e.amount) from ledger_transactions t join ledger_entries e on e.transaction_id = t.id
                  join ledger_accounts a on a.id = e.account_id
                 where t.idempotency_key = 'payout_schedule:' || s.id and a.owner_type = 'payee')::bigint as credited
        from placements p left join payout_schedules s on s.placement_id = p.id order by p.id`,
  );
  for (const placement of placements) {
    const mine = invoiceObjects.filter((i) => i.metadata?.placement_id === placement.id);
    if (mine.length > 1) violations.push(`placement ${placement.id}: ${mine.length} Stripe invoices: ${mine.map((i) => i.id).join(", ")}`);
    const paid = mine.some((i) => i.status === "paid");
    if (Number(placement.credits) > 1) violations.push(`placement ${placement.id}: its share credited ${placement.credits} times`);
    if (paid && (Number(placement.credits) !== 1 || toCents(placement.credited) !== toCents(placement.share))) {
      violations.push(`placement ${placement.id}: invoice paid at Stripe, share ${placement.share} credited ${placement.credits} time(s) (${placement.credited ?? 0}), schedule ${placement.schedule_status}`);
    }
  }
  return violations;
}
