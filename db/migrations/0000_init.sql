CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor_type" text NOT NULL,
	"actor_id" text NOT NULL,
	"actor_role" text,
	"action" text NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" text NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"reason" text,
	"request_id" text
);
--> statement-breakpoint
CREATE TABLE "outbox_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"type" text NOT NULL,
	"destination" text DEFAULT 'webhook' NOT NULL,
	"aggregate_type" text,
	"aggregate_id" text,
	"dedupe_key" text,
	"payload" jsonb NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_expires_at" timestamp with time zone,
	"published_at" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "processor_event_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"processor_event_id" uuid NOT NULL,
	"trigger" text NOT NULL,
	"outcome" text NOT NULL,
	"error" text,
	"actor" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "processor_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"provider" text DEFAULT 'stripe' NOT NULL,
	"event_id" text NOT NULL,
	"type" text NOT NULL,
	"account" text,
	"livemode" boolean DEFAULT false NOT NULL,
	"api_version" text,
	"payload" jsonb NOT NULL,
	"payload_sha256" text NOT NULL,
	"status" text DEFAULT 'received' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"replay_requested" boolean DEFAULT false NOT NULL,
	"last_replay_error" text,
	"last_error" text,
	"event_created_at" timestamp with time zone,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	"source" text DEFAULT 'webhook' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_records" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"stripe_customer_id" text NOT NULL,
	"meter_event_name" text NOT NULL,
	"quantity" integer NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"identifier" text NOT NULL,
	"exported_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_accounts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_type" text NOT NULL,
	"payee_id" uuid,
	"kind" text NOT NULL,
	"currency" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ledger_accounts_owner_consistent" CHECK (("ledger_accounts"."owner_type" = 'payee') = ("ledger_accounts"."payee_id" is not null)),
	CONSTRAINT "ledger_accounts_kind_valid" CHECK (("ledger_accounts"."owner_type" = 'payee' and "ledger_accounts"."kind" in ('pending','available','held','in_transit','paid'))
        or ("ledger_accounts"."owner_type" = 'platform' and "ledger_accounts"."kind" in ('fees','stripe_clearing','adjustments'))),
	CONSTRAINT "ledger_accounts_currency_format" CHECK ("ledger_accounts"."currency" ~ '^[a-z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "ledger_entries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"transaction_id" uuid NOT NULL,
	"account_id" uuid NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"effective_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ledger_entries_amount_nonzero" CHECK ("ledger_entries"."amount" <> 0)
);
--> statement-breakpoint
CREATE TABLE "ledger_transactions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"idempotency_key" text NOT NULL,
	"kind" text NOT NULL,
	"description" text NOT NULL,
	"payee_id" uuid,
	"source_type" text,
	"source_id" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"effective_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "connected_accounts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"payee_id" uuid NOT NULL,
	"stripe_account_id" text NOT NULL,
	"type" text DEFAULT 'express' NOT NULL,
	"country" text DEFAULT 'US' NOT NULL,
	"charges_enabled" boolean DEFAULT false NOT NULL,
	"payouts_enabled" boolean DEFAULT false NOT NULL,
	"details_submitted" boolean DEFAULT false NOT NULL,
	"requirements_currently_due" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"disabled_reason" text,
	"payout_schedule_interval" text DEFAULT 'manual' NOT NULL,
	"stripe_state_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payees" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"external_ref" text,
	"display_name" text NOT NULL,
	"email" text NOT NULL,
	"user_id" uuid,
	"country" text DEFAULT 'US' NOT NULL,
	"default_currency" text DEFAULT 'usd' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payout_settings" (
	"payee_id" uuid PRIMARY KEY NOT NULL,
	"payouts_enabled" boolean DEFAULT true NOT NULL,
	"beta_rollout" boolean DEFAULT false NOT NULL,
	"minimum_payout_cents" bigint,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payout_settings_minimum_nonnegative" CHECK ("payout_settings"."minimum_payout_cents" >= 0)
);
--> statement-breakpoint
CREATE TABLE "platform_settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_by" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payout_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"cycle_key" text NOT NULL,
	"cycle_date" text NOT NULL,
	"cutoff_at" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'planning' NOT NULL,
	"dry_run" boolean DEFAULT false NOT NULL,
	"trigger" text DEFAULT 'manual' NOT NULL,
	"requested_by" text,
	"payee_filter" jsonb,
	"heartbeat_at" timestamp with time zone,
	"planned_at" timestamp with time zone,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"totals" jsonb,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payouts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"run_id" uuid,
	"payee_id" uuid NOT NULL,
	"connected_account_id" uuid,
	"stripe_account_id" text,
	"amount_cents" bigint NOT NULL,
	"currency" text NOT NULL,
	"transfer_amount_cents" bigint DEFAULT 0 NOT NULL,
	"status" text DEFAULT 'planned' NOT NULL,
	"skip_reason" text,
	"failure_code" text,
	"failure_message" text,
	"transfer_idempotency_key" text,
	"payout_idempotency_key" text,
	"stripe_transfer_id" text,
	"stripe_payout_id" text,
	"first_attempt_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_owner" text,
	"lease_expires_at" timestamp with time zone,
	"ledger_transaction_id" uuid,
	"note" text,
	"arrival_date" timestamp with time zone,
	"paid_at" timestamp with time zone,
	"failed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payouts_amount_nonnegative" CHECK ("payouts"."amount_cents" >= 0),
	CONSTRAINT "payouts_transfer_within_amount" CHECK ("payouts"."transfer_amount_cents" >= 0 and "payouts"."transfer_amount_cents" <= "payouts"."amount_cents")
);
--> statement-breakpoint
CREATE TABLE "escrow_holds" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"payee_id" uuid NOT NULL,
	"placement_id" uuid,
	"kind" text NOT NULL,
	"amount_cents" bigint NOT NULL,
	"currency" text NOT NULL,
	"reason" text NOT NULL,
	"source_ref" text,
	"release_at" timestamp with time zone,
	"status" text DEFAULT 'active' NOT NULL,
	"released_at" timestamp with time zone,
	"cancelled_at" timestamp with time zone,
	"created_by" text,
	"hold_ledger_transaction_id" uuid,
	"release_ledger_transaction_id" uuid,
	"lease_expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "escrow_holds_amount_positive" CHECK ("escrow_holds"."amount_cents" > 0)
);
--> statement-breakpoint
CREATE TABLE "payout_schedules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"placement_id" uuid,
	"payee_id" uuid NOT NULL,
	"amount_cents" bigint NOT NULL,
	"currency" text NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"retry_count" integer DEFAULT 0 NOT NULL,
	"last_retry_at" timestamp with time zone,
	"next_attempt_at" timestamp with time zone,
	"failure_reason" text,
	"lease_expires_at" timestamp with time zone,
	"processed_at" timestamp with time zone,
	"ledger_transaction_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payout_schedules_amount_positive" CHECK ("payout_schedules"."amount_cents" > 0)
);
--> statement-breakpoint
CREATE TABLE "placement_invoices" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"placement_id" uuid NOT NULL,
	"amount_cents" bigint NOT NULL,
	"currency" text NOT NULL,
	"status" text DEFAULT 'creating' NOT NULL,
	"idempotency_key" text NOT NULL,
	"stripe_invoice_id" text,
	"stripe_invoice_item_id" text,
	"hosted_invoice_url" text,
	"finalized_at" timestamp with time zone,
	"paid_at" timestamp with time zone,
	"voided_at" timestamp with time zone,
	"stripe_state_at" timestamp with time zone,
	"lease_expires_at" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "placement_invoices_amount_nonnegative" CHECK ("placement_invoices"."amount_cents" >= 0)
);
--> statement-breakpoint
CREATE TABLE "placements" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"payee_id" uuid NOT NULL,
	"client_stripe_customer_id" text NOT NULL,
	"client_name" text,
	"candidate_name" text,
	"fee_cents" bigint NOT NULL,
	"payee_share_cents" bigint NOT NULL,
	"currency" text NOT NULL,
	"start_date" date NOT NULL,
	"guarantee_days" integer NOT NULL,
	"guarantee_expires_at" timestamp with time zone,
	"status" text DEFAULT 'active' NOT NULL,
	"status_changed_at" timestamp with time zone,
	"cancel_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "placements_fee_nonnegative" CHECK ("placements"."fee_cents" >= 0),
	CONSTRAINT "placements_share_within_fee" CHECK ("placements"."payee_share_cents" >= 0 and "placements"."payee_share_cents" <= "placements"."fee_cents"),
	CONSTRAINT "placements_guarantee_days_nonnegative" CHECK ("placements"."guarantee_days" >= 0)
);
--> statement-breakpoint
ALTER TABLE "processor_event_attempts" ADD CONSTRAINT "processor_event_attempts_processor_event_id_processor_events_id_fk" FOREIGN KEY ("processor_event_id") REFERENCES "public"."processor_events"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_payee_id_payees_id_fk" FOREIGN KEY ("payee_id") REFERENCES "public"."payees"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_transaction_id_ledger_transactions_id_fk" FOREIGN KEY ("transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_account_id_ledger_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."ledger_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_transactions" ADD CONSTRAINT "ledger_transactions_payee_id_payees_id_fk" FOREIGN KEY ("payee_id") REFERENCES "public"."payees"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "connected_accounts" ADD CONSTRAINT "connected_accounts_payee_id_payees_id_fk" FOREIGN KEY ("payee_id") REFERENCES "public"."payees"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payout_settings" ADD CONSTRAINT "payout_settings_payee_id_payees_id_fk" FOREIGN KEY ("payee_id") REFERENCES "public"."payees"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_run_id_payout_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."payout_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_payee_id_payees_id_fk" FOREIGN KEY ("payee_id") REFERENCES "public"."payees"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_connected_account_id_connected_accounts_id_fk" FOREIGN KEY ("connected_account_id") REFERENCES "public"."connected_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_ledger_transaction_id_ledger_transactions_id_fk" FOREIGN KEY ("ledger_transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "escrow_holds" ADD CONSTRAINT "escrow_holds_payee_id_payees_id_fk" FOREIGN KEY ("payee_id") REFERENCES "public"."payees"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "escrow_holds" ADD CONSTRAINT "escrow_holds_placement_id_placements_id_fk" FOREIGN KEY ("placement_id") REFERENCES "public"."placements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "escrow_holds" ADD CONSTRAINT "escrow_holds_hold_ledger_transaction_id_ledger_transactions_id_fk" FOREIGN KEY ("hold_ledger_transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "escrow_holds" ADD CONSTRAINT "escrow_holds_release_ledger_transaction_id_ledger_transactions_id_fk" FOREIGN KEY ("release_ledger_transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payout_schedules" ADD CONSTRAINT "payout_schedules_placement_id_placements_id_fk" FOREIGN KEY ("placement_id") REFERENCES "public"."placements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payout_schedules" ADD CONSTRAINT "payout_schedules_payee_id_payees_id_fk" FOREIGN KEY ("payee_id") REFERENCES "public"."payees"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payout_schedules" ADD CONSTRAINT "payout_schedules_ledger_transaction_id_ledger_transactions_id_fk" FOREIGN KEY ("ledger_transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "placement_invoices" ADD CONSTRAINT "placement_invoices_placement_id_placements_id_fk" FOREIGN KEY ("placement_id") REFERENCES "public"."placements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "placements" ADD CONSTRAINT "placements_payee_id_payees_id_fk" FOREIGN KEY ("payee_id") REFERENCES "public"."payees"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_entity_idx" ON "audit_log" USING btree ("entity_type","entity_id","occurred_at");--> statement-breakpoint
CREATE INDEX "audit_log_actor_idx" ON "audit_log" USING btree ("actor_id","occurred_at");--> statement-breakpoint
CREATE INDEX "audit_log_action_idx" ON "audit_log" USING btree ("action","occurred_at");--> statement-breakpoint
CREATE INDEX "audit_log_occurred_idx" ON "audit_log" USING btree ("occurred_at");--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_events_dedupe_key_key" ON "outbox_events" USING btree ("dedupe_key");--> statement-breakpoint
CREATE INDEX "outbox_events_unpublished_idx" ON "outbox_events" USING btree ("next_attempt_at") WHERE "outbox_events"."published_at" is null;--> statement-breakpoint
CREATE INDEX "processor_event_attempts_event_idx" ON "processor_event_attempts" USING btree ("processor_event_id","started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "processor_events_provider_event_id_key" ON "processor_events" USING btree ("provider","event_id");--> statement-breakpoint
CREATE INDEX "processor_events_status_received_idx" ON "processor_events" USING btree ("status","received_at");--> statement-breakpoint
CREATE INDEX "processor_events_type_received_idx" ON "processor_events" USING btree ("type","received_at");--> statement-breakpoint
CREATE UNIQUE INDEX "usage_records_identifier_key" ON "usage_records" USING btree ("identifier");--> statement-breakpoint
CREATE INDEX "usage_records_unexported_idx" ON "usage_records" USING btree ("occurred_at") WHERE "usage_records"."exported_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_accounts_owner_kind_currency_key" ON "ledger_accounts" USING btree ("owner_type","payee_id","kind","currency") WHERE "ledger_accounts"."payee_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_accounts_platform_kind_currency_key" ON "ledger_accounts" USING btree ("kind","currency") WHERE "ledger_accounts"."payee_id" is null;--> statement-breakpoint
CREATE INDEX "ledger_entries_account_effective_idx" ON "ledger_entries" USING btree ("account_id","effective_at","amount");--> statement-breakpoint
CREATE INDEX "ledger_entries_transaction_idx" ON "ledger_entries" USING btree ("transaction_id");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_transactions_idempotency_key_key" ON "ledger_transactions" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "ledger_transactions_payee_created_idx" ON "ledger_transactions" USING btree ("payee_id","created_at");--> statement-breakpoint
CREATE INDEX "ledger_transactions_source_idx" ON "ledger_transactions" USING btree ("source_type","source_id");--> statement-breakpoint
CREATE UNIQUE INDEX "connected_accounts_payee_id_key" ON "connected_accounts" USING btree ("payee_id");--> statement-breakpoint
CREATE UNIQUE INDEX "connected_accounts_stripe_account_id_key" ON "connected_accounts" USING btree ("stripe_account_id");--> statement-breakpoint
CREATE UNIQUE INDEX "payees_external_ref_key" ON "payees" USING btree ("external_ref");--> statement-breakpoint
CREATE UNIQUE INDEX "payees_user_id_key" ON "payees" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "platform_settings_updated_at_idx" ON "platform_settings" USING btree ("updated_at");--> statement-breakpoint
CREATE UNIQUE INDEX "payout_runs_cycle_key_key" ON "payout_runs" USING btree ("cycle_key") WHERE not "payout_runs"."dry_run";--> statement-breakpoint
CREATE INDEX "payout_runs_status_heartbeat_idx" ON "payout_runs" USING btree ("status","heartbeat_at");--> statement-breakpoint
CREATE INDEX "payout_runs_started_at_idx" ON "payout_runs" USING btree ("started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "payouts_run_payee_currency_key" ON "payouts" USING btree ("run_id","payee_id","currency");--> statement-breakpoint
CREATE UNIQUE INDEX "payouts_stripe_payout_id_key" ON "payouts" USING btree ("stripe_payout_id");--> statement-breakpoint
CREATE UNIQUE INDEX "payouts_stripe_transfer_id_key" ON "payouts" USING btree ("stripe_transfer_id");--> statement-breakpoint
CREATE INDEX "payouts_run_status_idx" ON "payouts" USING btree ("run_id","status");--> statement-breakpoint
CREATE INDEX "payouts_payee_created_idx" ON "payouts" USING btree ("payee_id","created_at");--> statement-breakpoint
CREATE INDEX "payouts_status_updated_idx" ON "payouts" USING btree ("status","updated_at");--> statement-breakpoint
CREATE INDEX "escrow_holds_status_release_idx" ON "escrow_holds" USING btree ("status","release_at");--> statement-breakpoint
CREATE INDEX "escrow_holds_placement_idx" ON "escrow_holds" USING btree ("placement_id","status");--> statement-breakpoint
CREATE INDEX "escrow_holds_payee_idx" ON "escrow_holds" USING btree ("payee_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "escrow_holds_kind_source_ref_key" ON "escrow_holds" USING btree ("kind","source_ref");--> statement-breakpoint
CREATE UNIQUE INDEX "payout_schedules_placement_id_key" ON "payout_schedules" USING btree ("placement_id");--> statement-breakpoint
CREATE INDEX "payout_schedules_status_due_idx" ON "payout_schedules" USING btree ("status","due_at");--> statement-breakpoint
CREATE INDEX "payout_schedules_payee_idx" ON "payout_schedules" USING btree ("payee_id");--> statement-breakpoint
CREATE UNIQUE INDEX "placement_invoices_placement_id_key" ON "placement_invoices" USING btree ("placement_id");--> statement-breakpoint
CREATE UNIQUE INDEX "placement_invoices_stripe_invoice_id_key" ON "placement_invoices" USING btree ("stripe_invoice_id");--> statement-breakpoint
CREATE INDEX "placement_invoices_status_idx" ON "placement_invoices" USING btree ("status");--> statement-breakpoint
CREATE INDEX "placements_status_guarantee_idx" ON "placements" USING btree ("status","guarantee_expires_at");--> statement-breakpoint
CREATE INDEX "placements_payee_idx" ON "placements" USING btree ("payee_id","created_at");