CREATE TABLE "qstash_deliveries" (
	"signature_id" text PRIMARY KEY NOT NULL,
	"message_id" text,
	"path" text NOT NULL,
	"status" integer NOT NULL,
	"response_body" text NOT NULL,
	"completed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "qstash_deliveries_message_id_key" ON "qstash_deliveries" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "qstash_deliveries_completed_at_idx" ON "qstash_deliveries" USING btree ("completed_at");