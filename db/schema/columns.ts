import { sql } from "drizzle-orm";
import { bigint, text, timestamp, uuid } from "drizzle-orm/pg-core";

// Money is integer minor units in a bigint column. JS `number` holds every cent value up to 2^53
// exactly; lib/money.ts refuses anything that is not a safe integer, so a float never gets in.
export const cents = (name?: string) =>
  name ? bigint(name, { mode: "number" }) : bigint({ mode: "number" });

// ISO 4217, lower case as Stripe sends it.
export const currency = () => text().notNull();

export const id = () => uuid().primaryKey().default(sql`gen_random_uuid()`);

export const createdAt = () => timestamp({ withTimezone: true }).notNull().defaultNow();
export const updatedAt = () => timestamp({ withTimezone: true }).notNull().defaultNow();
export const tstz = () => timestamp({ withTimezone: true });
