CREATE TABLE "ledger_stripe_refs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"transaction_id" uuid NOT NULL,
	"stripe_account" text NOT NULL,
	"stripe_object" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "ledger_stripe_refs_object_idx" ON "ledger_stripe_refs" USING btree ("stripe_object","stripe_account");--> statement-breakpoint
CREATE INDEX "ledger_stripe_refs_transaction_idx" ON "ledger_stripe_refs" USING btree ("transaction_id");--> statement-breakpoint
-- Append-only, like the postings they belong to.
CREATE TRIGGER ledger_stripe_refs_append_only BEFORE UPDATE OR DELETE ON ledger_stripe_refs
  FOR EACH ROW EXECUTE FUNCTION payrun_refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER ledger_stripe_refs_no_truncate BEFORE TRUNCATE ON ledger_stripe_refs
  FOR EACH STATEMENT EXECUTE FUNCTION payrun_refuse_mutation();
