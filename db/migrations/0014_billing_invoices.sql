CREATE TABLE "billing_adjustments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"request_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"target" text NOT NULL,
	"payee_id" uuid,
	"client_stripe_customer_id" text,
	"direction" text NOT NULL,
	"amount_cents" bigint NOT NULL,
	"currency" text NOT NULL,
	"reason_code" text NOT NULL,
	"note" text NOT NULL,
	"ledger_transaction_id" uuid NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "billing_adjustments_amount_positive" CHECK ("billing_adjustments"."amount_cents" > 0),
	CONSTRAINT "billing_adjustments_target" CHECK (("billing_adjustments"."target" = 'payee' and "billing_adjustments"."payee_id" is not null) or ("billing_adjustments"."target" = 'client' and "billing_adjustments"."client_stripe_customer_id" is not null))
);
--> statement-breakpoint
CREATE TABLE "billing_invoice_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"placement_invoice_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"amount_cents" bigint,
	"currency" text,
	"source_id" text NOT NULL,
	"stripe_ids" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"origin" text NOT NULL,
	"stripe_event_id" text,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "billing_invoice_operations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"placement_invoice_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"request_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"requested_cents" bigint,
	"reason_code" text,
	"note" text,
	"stripe_idempotency_key" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"stripe_object_id" text,
	"amount_cents" bigint,
	"response" jsonb,
	"error" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "billing_invoices" (
	"placement_invoice_id" uuid PRIMARY KEY NOT NULL,
	"billing_pilot" boolean DEFAULT false NOT NULL,
	"authorise_key" text,
	"stripe_payment_intent_id" text,
	"stripe_charge_id" text,
	"authorised_cents" bigint DEFAULT 0 NOT NULL,
	"captured_cents" bigint DEFAULT 0 NOT NULL,
	"refunded_cents" bigint DEFAULT 0 NOT NULL,
	"settled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "billing_invoices_amounts" CHECK ("billing_invoices"."captured_cents" >= 0 and "billing_invoices"."refunded_cents" >= 0 and "billing_invoices"."authorised_cents" >= 0)
);
--> statement-breakpoint
ALTER TABLE "ledger_accounts" DROP CONSTRAINT "ledger_accounts_kind_valid";--> statement-breakpoint
ALTER TABLE "billing_invoice_events" ADD CONSTRAINT "billing_invoice_events_placement_invoice_id_placement_invoices_id_fk" FOREIGN KEY ("placement_invoice_id") REFERENCES "public"."placement_invoices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_invoice_operations" ADD CONSTRAINT "billing_invoice_operations_placement_invoice_id_placement_invoices_id_fk" FOREIGN KEY ("placement_invoice_id") REFERENCES "public"."placement_invoices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_invoices" ADD CONSTRAINT "billing_invoices_placement_invoice_id_placement_invoices_id_fk" FOREIGN KEY ("placement_invoice_id") REFERENCES "public"."placement_invoices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "billing_adjustments_request_key" ON "billing_adjustments" USING btree ("request_key");--> statement-breakpoint
CREATE INDEX "billing_adjustments_created_idx" ON "billing_adjustments" USING btree ("created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "billing_invoice_events_source_key" ON "billing_invoice_events" USING btree ("placement_invoice_id","kind","source_id");--> statement-breakpoint
CREATE INDEX "billing_invoice_events_invoice_idx" ON "billing_invoice_events" USING btree ("placement_invoice_id","occurred_at");--> statement-breakpoint
CREATE UNIQUE INDEX "billing_invoice_operations_request_key" ON "billing_invoice_operations" USING btree ("kind","request_key");--> statement-breakpoint
CREATE INDEX "billing_invoice_operations_invoice_idx" ON "billing_invoice_operations" USING btree ("placement_invoice_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "billing_invoices_payment_intent_key" ON "billing_invoices" USING btree ("stripe_payment_intent_id");--> statement-breakpoint
CREATE INDEX "billing_invoices_charge_idx" ON "billing_invoices" USING btree ("stripe_charge_id");--> statement-breakpoint
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_kind_valid" CHECK (("ledger_accounts"."owner_type" = 'payee' and ("ledger_accounts"."kind", "ledger_accounts"."location") in (('pending','platform'), ('available','platform'),
          ('available','connected'), ('held','platform'), ('held','connected'), ('in_transit','platform'),
          ('in_transit','connected'), ('in_transit','bank'), ('paid','bank')))
        or ("ledger_accounts"."owner_type" = 'platform' and "ledger_accounts"."location" = 'platform'
            and "ledger_accounts"."kind" in ('fees','stripe_clearing','adjustments','losses','stripe_fees','client_funds')));