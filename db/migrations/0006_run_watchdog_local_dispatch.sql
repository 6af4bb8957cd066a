CREATE TABLE "local_dispatches" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigserial NOT NULL,
	"dedupe_id" text NOT NULL,
	"path" text NOT NULL,
	"body" jsonb NOT NULL,
	"flow_control_key" text,
	"due_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer DEFAULT 4 NOT NULL,
	"lease_expires_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"failed_at" timestamp with time zone,
	"last_status" integer,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "payout_runs" ADD COLUMN "executor_chain" text;--> statement-breakpoint
CREATE UNIQUE INDEX "local_dispatches_dedupe_id_key" ON "local_dispatches" USING btree ("dedupe_id");--> statement-breakpoint
CREATE INDEX "local_dispatches_due_idx" ON "local_dispatches" USING btree ("due_at") WHERE "local_dispatches"."delivered_at" is null and "local_dispatches"."failed_at" is null;--> statement-breakpoint
CREATE INDEX "local_dispatches_flow_idx" ON "local_dispatches" USING btree ("flow_control_key") WHERE "local_dispatches"."delivered_at" is null and "local_dispatches"."failed_at" is null;