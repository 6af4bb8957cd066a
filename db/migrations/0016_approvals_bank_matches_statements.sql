CREATE TABLE "bank_account_matches" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"fingerprint" text NOT NULL,
	"payee_a" uuid NOT NULL,
	"payee_b" uuid NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"decision_reason" text,
	"resolved_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bank_account_matches_pair_ordered" CHECK ("bank_account_matches"."payee_a" < "bank_account_matches"."payee_b")
);
--> statement-breakpoint
CREATE TABLE "external_bank_accounts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"stripe_external_account_id" text NOT NULL,
	"stripe_account_id" text NOT NULL,
	"connected_account_id" uuid NOT NULL,
	"payee_id" uuid NOT NULL,
	"fingerprint" text,
	"last4" text,
	"bank_name" text,
	"country" text,
	"currency" text,
	"deleted" boolean DEFAULT false NOT NULL,
	"stripe_state_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "connected_accounts" ADD COLUMN "business_type" text;--> statement-breakpoint
ALTER TABLE "payouts" ADD COLUMN "approval_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "payouts" ADD COLUMN "approval_decided_by" text;--> statement-breakpoint
ALTER TABLE "payouts" ADD COLUMN "approval_decided_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "payouts" ADD COLUMN "approval_reason" text;--> statement-breakpoint
ALTER TABLE "bank_account_matches" ADD CONSTRAINT "bank_account_matches_payee_a_payees_id_fk" FOREIGN KEY ("payee_a") REFERENCES "public"."payees"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_account_matches" ADD CONSTRAINT "bank_account_matches_payee_b_payees_id_fk" FOREIGN KEY ("payee_b") REFERENCES "public"."payees"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "external_bank_accounts" ADD CONSTRAINT "external_bank_accounts_connected_account_id_connected_accounts_id_fk" FOREIGN KEY ("connected_account_id") REFERENCES "public"."connected_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "external_bank_accounts" ADD CONSTRAINT "external_bank_accounts_payee_id_payees_id_fk" FOREIGN KEY ("payee_id") REFERENCES "public"."payees"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "bank_account_matches_pair_key" ON "bank_account_matches" USING btree ("fingerprint","payee_a","payee_b");--> statement-breakpoint
CREATE INDEX "bank_account_matches_holding_a_idx" ON "bank_account_matches" USING btree ("payee_a") WHERE "bank_account_matches"."status" in ('open', 'confirmed');--> statement-breakpoint
CREATE INDEX "bank_account_matches_holding_b_idx" ON "bank_account_matches" USING btree ("payee_b") WHERE "bank_account_matches"."status" in ('open', 'confirmed');--> statement-breakpoint
CREATE UNIQUE INDEX "external_bank_accounts_stripe_id_key" ON "external_bank_accounts" USING btree ("stripe_external_account_id");--> statement-breakpoint
CREATE INDEX "external_bank_accounts_fingerprint_idx" ON "external_bank_accounts" USING btree ("fingerprint") WHERE not "external_bank_accounts"."deleted" and "external_bank_accounts"."fingerprint" is not null;--> statement-breakpoint
CREATE INDEX "external_bank_accounts_stripe_account_idx" ON "external_bank_accounts" USING btree ("stripe_account_id");--> statement-breakpoint
CREATE INDEX "payouts_awaiting_approval_idx" ON "payouts" USING btree ("payee_id","currency") WHERE "payouts"."status" = 'awaiting_approval';