ALTER TABLE "payouts" ADD COLUMN "method" text DEFAULT 'standard' NOT NULL;--> statement-breakpoint
ALTER TABLE "payouts" ADD COLUMN "fee_cents" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "payouts" ADD COLUMN "fee_debit_cents" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "payouts" ADD COLUMN "fee_idempotency_key" text;--> statement-breakpoint
ALTER TABLE "payouts" ADD COLUMN "stripe_fee_transfer_id" text;--> statement-breakpoint
CREATE INDEX "payouts_instant_payee_created_idx" ON "payouts" USING btree ("payee_id","created_at") WHERE "payouts"."origin" = 'instant';--> statement-breakpoint
CREATE INDEX "payouts_instant_status_idx" ON "payouts" USING btree ("status","lease_expires_at") WHERE "payouts"."origin" = 'instant';--> statement-breakpoint
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_fee_debit_within_fee" CHECK ("payouts"."fee_debit_cents" >= 0 and "payouts"."fee_debit_cents" <= "payouts"."fee_cents");