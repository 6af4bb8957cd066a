CREATE TABLE "ledger_balances" (
	"account_id" uuid NOT NULL,
	"shard" smallint NOT NULL,
	"balance" bigint NOT NULL,
	CONSTRAINT "ledger_balances_account_id_shard_pk" PRIMARY KEY("account_id","shard")
);
--> statement-breakpoint
ALTER TABLE "ledger_accounts" DROP CONSTRAINT "ledger_accounts_kind_valid";--> statement-breakpoint
DROP INDEX "ledger_accounts_owner_kind_currency_key";--> statement-breakpoint
ALTER TABLE "ledger_accounts" ADD COLUMN "location" text DEFAULT 'platform' NOT NULL;--> statement-breakpoint
-- Paid money has left Stripe: every existing paid account is at the bank. (Accounts are append-only;
-- this one-time relabelling is the migration's, with the guard off for its length.)
ALTER TABLE "ledger_accounts" DISABLE TRIGGER "ledger_accounts_append_only";--> statement-breakpoint
UPDATE "ledger_accounts" SET "location" = 'bank' WHERE "owner_type" = 'payee' AND "kind" = 'paid';--> statement-breakpoint
ALTER TABLE "ledger_accounts" ENABLE TRIGGER "ledger_accounts_append_only";--> statement-breakpoint
ALTER TABLE "payouts" ADD COLUMN "transfer_reversed_cents" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
-- A reversal was noted in the payout's note as "transfer_reversed:<cumulative cents>".
UPDATE "payouts" p SET "transfer_reversed_cents" = r.cents
  FROM (SELECT id, max((m[1])::bigint) AS cents
          FROM payouts, regexp_matches(coalesce(note, ''), 'transfer_reversed:([0-9]+)', 'g') m
         GROUP BY id) r
 WHERE p.id = r.id;--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_accounts_owner_kind_location_currency_key" ON "ledger_accounts" USING btree ("owner_type","payee_id","kind","location","currency") WHERE "ledger_accounts"."payee_id" is not null;--> statement-breakpoint
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_kind_valid" CHECK (("ledger_accounts"."owner_type" = 'payee' and ("ledger_accounts"."kind", "ledger_accounts"."location") in (('pending','platform'), ('available','platform'),
          ('available','connected'), ('held','platform'), ('held','connected'), ('in_transit','platform'),
          ('in_transit','connected'), ('in_transit','bank'), ('paid','bank')))
        or ("ledger_accounts"."owner_type" = 'platform' and "ledger_accounts"."location" = 'platform'
            and "ledger_accounts"."kind" in ('fees','stripe_clearing','adjustments','losses','stripe_fees')));--> statement-breakpoint
CREATE INDEX "ledger_entries_effective_brin" ON "ledger_entries" USING brin ("effective_at");--> statement-breakpoint
ALTER TABLE "ledger_transactions" ADD COLUMN "allow_overdraft" boolean DEFAULT false NOT NULL;--> statement-breakpoint

-- Every payee has every (kind, location) account in each currency it has money in.
INSERT INTO ledger_accounts (owner_type, payee_id, kind, location, currency)
SELECT DISTINCT 'payee', a.payee_id, k.kind, k.location, a.currency
  FROM ledger_accounts a
 CROSS JOIN (VALUES ('pending', 'platform'), ('available', 'platform'), ('available', 'connected'), ('held', 'platform'),
                    ('held', 'connected'), ('in_transit', 'platform'), ('in_transit', 'connected'), ('in_transit', 'bank'),
                    ('paid', 'bank')) k(kind, location)
 WHERE a.owner_type = 'payee'
ON CONFLICT DO NOTHING;
--> statement-breakpoint

-- Running balances, from the history so far (shard 0 of each account).
INSERT INTO ledger_balances (account_id, shard, balance)
SELECT a.id, 0, coalesce(sum(e.amount), 0)
  FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id
 GROUP BY a.id;
--> statement-breakpoint

-- Kept by the database from here on. After every INSERT statement on ledger_entries, the balance of
-- each account it touched moves by the statement's sum for that account, in the same statement:
-- no entry without its balance, no balance without its entries. Platform accounts spread over 16
-- shards by transaction, so concurrent postings to fees or stripe_clearing rarely meet on one row;
-- rows are written in (account, shard) order, so two statements never lock them in opposite orders.
-- The same statement refuses an overdraft, against the balance it has just moved.
CREATE OR REPLACE FUNCTION payrun_ledger_keep_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  -- Each balance moves by the statement's sum for it. A row another transaction is moving is waited
  -- for and then moved from its new value (ON CONFLICT DO UPDATE works on the latest version), so
  -- concurrent debits are checked one after another against the real balance.
  WITH moved AS (
    INSERT INTO ledger_balances (account_id, shard, balance)
    SELECT n.account_id,
           CASE WHEN n.account_id IN (SELECT id FROM ledger_accounts WHERE payee_id IS NULL)
                THEN (hashtext(n.transaction_id::text) & 15)::smallint ELSE 0::smallint END AS shard,
           sum(n.amount)
      FROM new_entries n
     GROUP BY 1, 2
     ORDER BY 1, 2
    ON CONFLICT (account_id, shard) DO UPDATE SET balance = ledger_balances.balance + excluded.balance
    RETURNING account_id, balance
  )
  -- Overdraft: no payee account may end below zero, except available when every posting of this
  -- statement that takes from it allows it (a refund, a dispute). Platform accounts may.
  SELECT a.id, a.payee_id, a.kind, a.location, a.currency, m.balance,
         (SELECT -sum(n.amount) FROM new_entries n WHERE n.account_id = a.id AND n.amount < 0) AS debit
    INTO bad
    FROM moved m JOIN ledger_accounts a ON a.id = m.account_id
   WHERE m.balance < 0 AND a.owner_type = 'payee'
     AND (a.kind <> 'available' OR EXISTS (
           SELECT 1 FROM new_entries n JOIN ledger_transactions t ON t.id = n.transaction_id
            WHERE n.account_id = m.account_id AND n.amount < 0 AND NOT t.allow_overdraft))
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger overdraft: payee % % balance (%) would be % %', bad.payee_id, bad.kind, bad.location, bad.balance, bad.currency
      USING ERRCODE = 'check_violation',
            DETAIL = json_build_object('payeeId', bad.payee_id, 'kind', bad.kind, 'location', bad.location,
                                       'currency', bad.currency, 'balance', bad.balance + coalesce(bad.debit, 0),
                                       'debit', coalesce(bad.debit, 0))::text;
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER ledger_entries_keep_balances AFTER INSERT ON ledger_entries
  REFERENCING NEW TABLE AS new_entries
  FOR EACH STATEMENT EXECUTE FUNCTION payrun_ledger_keep_balances();
--> statement-breakpoint

-- A new account starts at zero, so a debit can lock its balance row before the first entry.
CREATE OR REPLACE FUNCTION payrun_ledger_open_balances() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ledger_balances (account_id, shard, balance)
  SELECT n.id, 0, 0 FROM new_accounts n
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER ledger_accounts_open_balances AFTER INSERT ON ledger_accounts
  REFERENCING NEW TABLE AS new_accounts
  FOR EACH STATEMENT EXECUTE FUNCTION payrun_ledger_open_balances();
--> statement-breakpoint

-- Nothing else writes a balance: only the two ledger triggers above (trigger depth 2) may.
CREATE OR REPLACE FUNCTION payrun_ledger_balances_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' OR pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'ledger_balances is kept by the ledger''s triggers from ledger_entries: % refused', TG_OP
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER ledger_balances_guarded BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON ledger_balances
  FOR EACH STATEMENT EXECUTE FUNCTION payrun_ledger_balances_guard();
--> statement-breakpoint

-- Where the existing money is. Until now a payee had one account per kind, and where its money sat
-- was inferred (earnings tagged "connected_account" in metadata, minus what payouts took; transfers
-- per payout). One opening posting per payee and currency moves each part to its location account,
-- by the same rules the payout run used to infer it.
CREATE TEMP TABLE payrun_location_backfill AS
WITH acc AS (
  SELECT a.payee_id, a.currency, a.kind, a.location, b.balance
    FROM ledger_accounts a JOIN ledger_balances b ON b.account_id = a.id AND b.shard = 0
   WHERE a.owner_type = 'payee'
),
avail AS (
  SELECT payee_id, currency, balance FROM acc WHERE kind = 'available' AND location = 'platform'
),
tagged AS (
  SELECT a.payee_id, a.currency, sum(e.amount) AS on_connected
    FROM ledger_accounts a
    JOIN ledger_entries e ON e.account_id = a.id
    JOIN ledger_transactions t ON t.id = e.transaction_id
   WHERE a.owner_type = 'payee' AND a.kind = 'available' AND t.metadata->>'funds_location' = 'connected_account'
   GROUP BY a.payee_id, a.currency
),
used AS (
  SELECT payee_id, currency,
         coalesce(sum(amount_cents - transfer_amount_cents) FILTER (WHERE status NOT IN ('failed', 'skipped')), 0)
         - coalesce(sum(transfer_amount_cents) FILTER (
             WHERE status = 'failed' AND stripe_transfer_id IS NOT NULL AND transfer_reversed_cents = 0), 0) AS used,
         coalesce(sum(amount_cents - transfer_amount_cents
                      + CASE WHEN stripe_transfer_id IS NOT NULL THEN transfer_amount_cents ELSE 0 END)
                  FILTER (WHERE status IN ('planned', 'processing')), 0) AS in_transit_connected,
         coalesce(sum(amount_cents) FILTER (WHERE status = 'in_transit'), 0) AS in_transit_bank
    FROM payouts GROUP BY payee_id, currency
),
holds AS (
  SELECT payee_id, currency, sum(amount_cents) AS on_connected
    FROM escrow_holds
   WHERE status = 'active' AND kind IN ('rolling_reserve', 'dispute') AND hold_ledger_transaction_id IS NOT NULL
   GROUP BY payee_id, currency
)
SELECT p.payee_id, p.currency,
       greatest(0, least(av.balance, coalesce(tg.on_connected, 0) - coalesce(u.used, 0))) AS available_connected,
       greatest(0, least(hl.balance, coalesce(h.on_connected, 0))) AS held_connected,
       greatest(0, least(it.balance, coalesce(u.in_transit_connected, 0))) AS in_transit_connected,
       greatest(0, least(it.balance - greatest(0, least(it.balance, coalesce(u.in_transit_connected, 0))), coalesce(u.in_transit_bank, 0))) AS in_transit_bank,
       gen_random_uuid() AS tx_id
  FROM (SELECT DISTINCT payee_id, currency FROM acc) p
  JOIN avail av ON av.payee_id = p.payee_id AND av.currency = p.currency
  JOIN acc hl ON hl.payee_id = p.payee_id AND hl.currency = p.currency AND hl.kind = 'held' AND hl.location = 'platform'
  JOIN acc it ON it.payee_id = p.payee_id AND it.currency = p.currency AND it.kind = 'in_transit' AND it.location = 'platform'
  LEFT JOIN tagged tg ON tg.payee_id = p.payee_id AND tg.currency = p.currency
  LEFT JOIN used u ON u.payee_id = p.payee_id AND u.currency = p.currency
  LEFT JOIN holds h ON h.payee_id = p.payee_id AND h.currency = p.currency;
--> statement-breakpoint
DELETE FROM payrun_location_backfill
 WHERE available_connected = 0 AND held_connected = 0 AND in_transit_connected = 0 AND in_transit_bank = 0;
--> statement-breakpoint
INSERT INTO ledger_transactions (id, idempotency_key, kind, description, payee_id, source_type, source_id, metadata)
SELECT tx_id, 'ledger:locations:' || payee_id || ':' || currency, 'funds_location_opening',
       'where the money already was: opening balances of the location accounts', payee_id, 'migration', '0007', '{}'::jsonb
  FROM payrun_location_backfill;
--> statement-breakpoint
INSERT INTO ledger_entries (transaction_id, account_id, amount, currency)
SELECT f.tx_id, a.id, v.amount, f.currency
  FROM payrun_location_backfill f
 CROSS JOIN LATERAL (VALUES
   ('available', 'platform', -f.available_connected), ('available', 'connected', f.available_connected),
   ('held', 'platform', -f.held_connected), ('held', 'connected', f.held_connected),
   ('in_transit', 'platform', -(f.in_transit_connected + f.in_transit_bank)),
   ('in_transit', 'connected', f.in_transit_connected), ('in_transit', 'bank', f.in_transit_bank)) v(kind, location, amount)
  JOIN ledger_accounts a ON a.owner_type = 'payee' AND a.payee_id = f.payee_id AND a.kind = v.kind
                        AND a.location = v.location AND a.currency = f.currency
 WHERE v.amount <> 0;
--> statement-breakpoint
DROP TABLE payrun_location_backfill;
