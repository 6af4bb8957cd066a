CREATE TABLE "reconciliation_accounts" (
	"account" text PRIMARY KEY NOT NULL,
	"cursor_created" bigint,
	"pass_id" uuid,
	"lease_owner" text,
	"lease_expires_at" timestamp with time zone,
	"last_reconciled_at" timestamp with time zone,
	"matched_until" timestamp with time zone,
	"last_error" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reconciliation_breaks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"subject" text NOT NULL,
	"account" text NOT NULL,
	"stripe_object" text,
	"currency" text,
	"stripe_amount" bigint,
	"ledger_amount" bigint,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone,
	"resolved_at" timestamp with time zone,
	"resolved_by" text,
	"resolution" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reconciliation_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"accounts_total" integer DEFAULT 0 NOT NULL,
	"accounts_done" integer DEFAULT 0 NOT NULL,
	"transactions_ingested" integer DEFAULT 0 NOT NULL,
	"breaks_opened" integer DEFAULT 0 NOT NULL,
	"breaks_closed" integer DEFAULT 0 NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stripe_balance_transactions" (
	"id" text PRIMARY KEY NOT NULL,
	"account" text NOT NULL,
	"amount" bigint NOT NULL,
	"fee" bigint NOT NULL,
	"net" bigint NOT NULL,
	"currency" text NOT NULL,
	"type" text NOT NULL,
	"reporting_category" text,
	"source" text,
	"primary_object" text NOT NULL,
	"scope" text NOT NULL,
	"status" text,
	"created" timestamp with time zone NOT NULL,
	"available_on" timestamp with time zone,
	"ingested_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sweep_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"sweep" text NOT NULL,
	"processed" integer NOT NULL,
	"failed" integer NOT NULL,
	"remaining" integer NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "payouts" ADD COLUMN "origin" text DEFAULT 'run' NOT NULL;--> statement-breakpoint
ALTER TABLE "payouts" ADD COLUMN "request_key" text;--> statement-breakpoint
CREATE INDEX "reconciliation_accounts_pass_idx" ON "reconciliation_accounts" USING btree ("pass_id");--> statement-breakpoint
CREATE UNIQUE INDEX "reconciliation_breaks_open_subject_key" ON "reconciliation_breaks" USING btree ("subject") WHERE "reconciliation_breaks"."status" = 'open';--> statement-breakpoint
CREATE INDEX "reconciliation_breaks_kind_status_idx" ON "reconciliation_breaks" USING btree ("kind","status","first_seen_at");--> statement-breakpoint
CREATE INDEX "reconciliation_runs_started_idx" ON "reconciliation_runs" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "stripe_bt_account_object_idx" ON "stripe_balance_transactions" USING btree ("account","primary_object");--> statement-breakpoint
CREATE INDEX "stripe_bt_account_created_idx" ON "stripe_balance_transactions" USING btree ("account","created");--> statement-breakpoint
CREATE INDEX "sweep_runs_at_idx" ON "sweep_runs" USING btree ("at");--> statement-breakpoint
CREATE UNIQUE INDEX "payouts_request_key_key" ON "payouts" USING btree ("request_key") WHERE "payouts"."request_key" is not null;
--> statement-breakpoint
CREATE UNIQUE INDEX "reconciliation_runs_one_running_key" ON "reconciliation_runs" USING btree ("status") WHERE "reconciliation_runs"."status" = 'running';
--> statement-breakpoint
CREATE INDEX "ledger_stripe_refs_account_created_idx" ON "ledger_stripe_refs" USING btree ("stripe_account","created_at");--> statement-breakpoint
CREATE INDEX "stripe_bt_account_ingested_idx" ON "stripe_balance_transactions" USING btree ("account","ingested_at");
