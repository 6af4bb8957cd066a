ALTER TABLE "placement_invoices" ADD COLUMN "client_stripe_customer_id" text;--> statement-breakpoint
ALTER TABLE "placement_invoices" ADD COLUMN "description" text;--> statement-breakpoint
ALTER TABLE "placement_invoices" ADD COLUMN "first_attempt_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "placement_invoices" ADD COLUMN "void_requested_at" timestamp with time zone;