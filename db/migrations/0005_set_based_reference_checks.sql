ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_transaction_id_ledger_transactions_id_fk";
--> statement-breakpoint
ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_account_id_ledger_accounts_id_fk";
--> statement-breakpoint
ALTER TABLE "ledger_transactions" DROP CONSTRAINT "ledger_transactions_payee_id_payees_id_fk";
--> statement-breakpoint
ALTER TABLE "payouts" DROP CONSTRAINT "payouts_run_id_payout_runs_id_fk";
--> statement-breakpoint
ALTER TABLE "payouts" DROP CONSTRAINT "payouts_payee_id_payees_id_fk";
--> statement-breakpoint
ALTER TABLE "payouts" DROP CONSTRAINT "payouts_connected_account_id_connected_accounts_id_fk";
--> statement-breakpoint
ALTER TABLE "payouts" DROP CONSTRAINT "payouts_ledger_transaction_id_ledger_transactions_id_fk";
--> statement-breakpoint
DROP INDEX "ledger_transactions_payee_created_idx";--> statement-breakpoint
DROP INDEX "ledger_transactions_source_idx";--> statement-breakpoint
DROP INDEX "payouts_stripe_payout_id_key";--> statement-breakpoint
DROP INDEX "payouts_stripe_transfer_id_key";--> statement-breakpoint
ALTER TABLE "payouts" ADD COLUMN "retries" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "ledger_transactions_source_idx" ON "ledger_transactions" USING btree ("source_type","source_id") WHERE "ledger_transactions"."source_type" <> 'payout';--> statement-breakpoint
CREATE UNIQUE INDEX "payouts_stripe_payout_id_key" ON "payouts" USING btree ("stripe_payout_id") WHERE "payouts"."stripe_payout_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "payouts_stripe_transfer_id_key" ON "payouts" USING btree ("stripe_transfer_id") WHERE "payouts"."stripe_transfer_id" is not null;--> statement-breakpoint

-- Set-based reference checks. Planning writes thousands of payouts, ledger transactions and entries
-- in one INSERT each; a FOREIGN KEY checks every row with its own lookup (four on payouts, two on
-- entries), which was a third of planning's time. The same guarantee, checked once per statement:
--   (a) the rows these tables point at can never be deleted, nor their ids changed;
--   (b) every INSERT statement is checked against them with one anti-join per reference.

-- (a) Referenced rows stay.
CREATE OR REPLACE FUNCTION payrun_refuse_referenced_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are referenced by the ledger or by payouts and are never removed or re-keyed: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'foreign_key_violation';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER ledger_accounts_append_only BEFORE UPDATE OR DELETE ON ledger_accounts
  FOR EACH ROW EXECUTE FUNCTION payrun_refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER ledger_accounts_no_truncate BEFORE TRUNCATE ON ledger_accounts
  FOR EACH STATEMENT EXECUTE FUNCTION payrun_refuse_mutation();
--> statement-breakpoint
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['payees', 'connected_accounts', 'payout_runs'] LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE DELETE ON %I FOR EACH ROW EXECUTE FUNCTION payrun_refuse_referenced_change()', t || '_no_delete', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION payrun_refuse_referenced_change()', t || '_no_truncate', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OF id ON %I FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION payrun_refuse_referenced_change()', t || '_id_fixed', t);
  END LOOP;
END;
$$;
--> statement-breakpoint

-- (b1) Ledger entries: balanced, in their account's currency, pointing at rows that exist.
-- Balance needs only the statement's own rows: entries are append-only and every earlier statement
-- left each transaction summing to zero per currency, so the transaction still does if and only if
-- this statement's entries for it sum to zero. Amounts are never zero, so a zero sum also means at
-- least two entries.
CREATE OR REPLACE FUNCTION payrun_ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  SELECT n.transaction_id, n.currency, sum(n.amount) AS total, count(*) AS n
    INTO bad
    FROM new_entries n
   GROUP BY n.transaction_id, n.currency
  HAVING sum(n.amount) <> 0
   LIMIT 1;
  IF FOUND AND bad.n < 2 THEN
    RAISE EXCEPTION 'ledger transaction % has % entry in %; double entry needs at least two', bad.transaction_id, bad.n, bad.currency
      USING ERRCODE = 'check_violation';
  ELSIF FOUND THEN
    RAISE EXCEPTION 'ledger transaction % is unbalanced in %: entries sum to %', bad.transaction_id, bad.currency, bad.total
      USING ERRCODE = 'check_violation';
  END IF;

  SELECT n.id, n.account_id, n.currency AS entry_currency, a.currency AS account_currency
    INTO bad
    FROM new_entries n LEFT JOIN ledger_accounts a ON a.id = n.account_id
   WHERE a.id IS NULL OR n.currency <> a.currency
   LIMIT 1;
  IF FOUND AND bad.account_currency IS NULL THEN
    RAISE EXCEPTION 'ledger entry refers to ledger account %, which does not exist', bad.account_id
      USING ERRCODE = 'foreign_key_violation';
  ELSIF FOUND THEN
    RAISE EXCEPTION 'ledger entry % is in % but its account is in %', bad.id, bad.entry_currency, bad.account_currency
      USING ERRCODE = 'check_violation';
  END IF;

  SELECT d.transaction_id INTO bad
    FROM (SELECT DISTINCT transaction_id FROM new_entries) d
   WHERE NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.id = d.transaction_id)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger entry refers to ledger transaction %, which does not exist', bad.transaction_id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint

-- (b2) Ledger transactions: the payee exists.
CREATE OR REPLACE FUNCTION payrun_ledger_transactions_check_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  SELECT n.id, n.payee_id INTO bad FROM new_transactions n
   WHERE n.payee_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM payees p WHERE p.id = n.payee_id)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger transaction % refers to payee %, which does not exist', bad.id, bad.payee_id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER ledger_transactions_refs AFTER INSERT ON ledger_transactions
  REFERENCING NEW TABLE AS new_transactions
  FOR EACH STATEMENT EXECUTE FUNCTION payrun_ledger_transactions_check_refs();
--> statement-breakpoint

-- (b3) Payouts: run, payee, connected account and planning posting exist. Checked per INSERT
-- statement; an UPDATE that changes one of them (nothing in Payrun does) is checked row by row.
CREATE OR REPLACE FUNCTION payrun_payouts_check_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  IF TG_LEVEL = 'ROW' THEN
    SELECT NEW.id, NEW.run_id, NEW.payee_id, NEW.connected_account_id, NEW.ledger_transaction_id INTO bad;
    IF (bad.run_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM payout_runs r WHERE r.id = bad.run_id))
       OR NOT EXISTS (SELECT 1 FROM payees p WHERE p.id = bad.payee_id)
       OR (bad.connected_account_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM connected_accounts c WHERE c.id = bad.connected_account_id))
       OR (bad.ledger_transaction_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.id = bad.ledger_transaction_id)) THEN
      RAISE EXCEPTION 'payout % refers to a run, payee, connected account or ledger transaction that does not exist', bad.id
        USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
  END IF;
  SELECT n.id INTO bad FROM new_payouts n
   WHERE (n.run_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM payout_runs r WHERE r.id = n.run_id))
      OR NOT EXISTS (SELECT 1 FROM payees p WHERE p.id = n.payee_id)
      OR (n.connected_account_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM connected_accounts c WHERE c.id = n.connected_account_id))
      OR (n.ledger_transaction_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.id = n.ledger_transaction_id))
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'payout % refers to a run, payee, connected account or ledger transaction that does not exist', bad.id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER payouts_refs AFTER INSERT ON payouts
  REFERENCING NEW TABLE AS new_payouts
  FOR EACH STATEMENT EXECUTE FUNCTION payrun_payouts_check_refs();
--> statement-breakpoint
CREATE TRIGGER payouts_refs_changed BEFORE UPDATE OF run_id, payee_id, connected_account_id, ledger_transaction_id ON payouts
  FOR EACH ROW WHEN (OLD.run_id IS DISTINCT FROM NEW.run_id OR OLD.payee_id IS DISTINCT FROM NEW.payee_id
                     OR OLD.connected_account_id IS DISTINCT FROM NEW.connected_account_id
                     OR OLD.ledger_transaction_id IS DISTINCT FROM NEW.ledger_transaction_id)
  EXECUTE FUNCTION payrun_payouts_check_refs();
--> statement-breakpoint

-- Every payee has all five accounts in each currency it has money in (the poster now creates them
-- together), so planning never has to create in_transit accounts for thousands of payees at once.
INSERT INTO ledger_accounts (owner_type, payee_id, kind, currency)
SELECT DISTINCT 'payee', a.payee_id, k.kind, a.currency
  FROM ledger_accounts a
 CROSS JOIN (VALUES ('pending'), ('available'), ('held'), ('in_transit'), ('paid')) k(kind)
 WHERE a.owner_type = 'payee'
ON CONFLICT DO NOTHING;
