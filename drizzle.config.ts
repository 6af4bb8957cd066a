import { defineConfig } from "drizzle-kit";

// `npm run db:generate` writes a migration from db/schema; `npm run db:migrate` applies them.
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/schema/index.ts",
  out: "./db/migrations",
  casing: "snake_case",
  dbCredentials: { url: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test" },
  strict: true,
  verbose: true,
});
