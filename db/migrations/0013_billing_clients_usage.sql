CREATE TABLE "clients" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"email" text NOT NULL,
	"plan" text NOT NULL,
	"status" text DEFAULT 'creating' NOT NULL,
	"create_key" text,
	"stripe_customer_id" text,
	"stripe_subscription_id" text,
	"subscription_status" text,
	"current_period_end" timestamp with time zone,
	"cancel_at_period_end" boolean DEFAULT false NOT NULL,
	"canceled_at" timestamp with time zone,
	"plan_version" integer DEFAULT 0 NOT NULL,
	"latest_invoice_id" text,
	"latest_invoice_status" text,
	"last_payment_error" text,
	"stripe_state_at" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_export_batches" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"actor" text NOT NULL,
	"range_start" text NOT NULL,
	"range_end" text NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"records_total" integer DEFAULT 0 NOT NULL,
	"records_sent" integer DEFAULT 0 NOT NULL,
	"records_already_at_stripe" integer DEFAULT 0 NOT NULL,
	"records_failed" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "client_id" uuid;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "source" text DEFAULT 'api' NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "request_key" text;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "export_batch_id" uuid;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "export_attempted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "export_failed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "export_error" text;--> statement-breakpoint
ALTER TABLE "placement_invoices" ADD COLUMN "client_id" uuid;--> statement-breakpoint
CREATE UNIQUE INDEX "clients_create_key_key" ON "clients" USING btree ("create_key");--> statement-breakpoint
CREATE UNIQUE INDEX "clients_stripe_customer_id_key" ON "clients" USING btree ("stripe_customer_id");--> statement-breakpoint
CREATE UNIQUE INDEX "clients_stripe_subscription_id_key" ON "clients" USING btree ("stripe_subscription_id");--> statement-breakpoint
CREATE INDEX "clients_created_idx" ON "clients" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "usage_export_batches_started_idx" ON "usage_export_batches" USING btree ("started_at","id");--> statement-breakpoint
ALTER TABLE "usage_records" ADD CONSTRAINT "usage_records_client_id_clients_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "placement_invoices" ADD CONSTRAINT "placement_invoices_client_id_clients_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "usage_records_client_request_key" ON "usage_records" USING btree ("client_id","request_key");--> statement-breakpoint
CREATE INDEX "usage_records_client_occurred_idx" ON "usage_records" USING btree ("client_id","occurred_at");--> statement-breakpoint
ALTER TABLE "usage_records" ADD CONSTRAINT "usage_records_quantity_positive" CHECK ("usage_records"."quantity" > 0);