ALTER TABLE "payouts" ADD COLUMN "approval_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "payouts" ADD COLUMN "approval_decided_by" text;--> statement-breakpoint
ALTER TABLE "payouts" ADD COLUMN "approval_decided_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "payouts" ADD COLUMN "approval_reason" text;--> statement-breakpoint
CREATE INDEX "payouts_awaiting_approval_idx" ON "payouts" USING btree ("payee_id","currency") WHERE "payouts"."status" = 'awaiting_approval';