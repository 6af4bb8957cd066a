-- The database itself keeps the ledger honest; application code is the second line, not the first.

-- 1. Append-only: ledger rows and the audit log can be inserted, never changed or removed.
CREATE OR REPLACE FUNCTION payrun_refuse_mutation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION payrun_refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION payrun_refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
  FOR EACH ROW EXECUTE FUNCTION payrun_refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
  FOR EACH STATEMENT EXECUTE FUNCTION payrun_refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION payrun_refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION payrun_refuse_mutation();
--> statement-breakpoint

-- 2. Balanced: after every INSERT statement on ledger_entries, each transaction it touched must
-- have at least two entries, every entry in the transaction's account currency, and sum to zero
-- per currency. A statement-level trigger with a transition table checks a whole set-based posting
-- (thousands of payouts in one INSERT) with one grouped query instead of one query per row.
CREATE OR REPLACE FUNCTION payrun_ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  SELECT e.transaction_id, e.currency, sum(e.amount) AS total, count(*) AS n
    INTO bad
    FROM ledger_entries e
   WHERE e.transaction_id IN (SELECT DISTINCT transaction_id FROM new_entries)
   GROUP BY e.transaction_id, e.currency
  HAVING sum(e.amount) <> 0
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger transaction % is unbalanced in %: entries sum to %', bad.transaction_id, bad.currency, bad.total
      USING ERRCODE = 'check_violation';
  END IF;

  SELECT e.transaction_id, count(*) AS n
    INTO bad
    FROM ledger_entries e
   WHERE e.transaction_id IN (SELECT DISTINCT transaction_id FROM new_entries)
   GROUP BY e.transaction_id
  HAVING count(*) < 2
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger transaction % has % entry; double entry needs at least two', bad.transaction_id, bad.n
      USING ERRCODE = 'check_violation';
  END IF;

  SELECT n.id, n.currency AS entry_currency, a.currency AS account_currency
    INTO bad
    FROM new_entries n JOIN ledger_accounts a ON a.id = n.account_id
   WHERE n.currency <> a.currency
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger entry % is in % but its account is in %', bad.id, bad.entry_currency, bad.account_currency
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
  REFERENCING NEW TABLE AS new_entries
  FOR EACH STATEMENT EXECUTE FUNCTION payrun_ledger_check_balanced();
