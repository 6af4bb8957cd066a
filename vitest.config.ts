import path from "node:path";
import { defineConfig } from "vitest/config";

// Three tiers (CONVENTIONS.md):
//   unit         tests/unit/**         no database: rules, money, the Stripe simulator through the SDK
//   pglite       tests/integration/**  every state change, on embedded PGlite
//   postgres     tests/integration/** + tests/postgres/**  the same suite on the real Postgres,
//                plus what only a real server can prove (concurrency, locks, races)
//   e2e          tests/e2e/**          real Chromium (Debian's) driving `next start`; screenshots in
//                tests/e2e/screenshots/
const shared = {
  testTimeout: 60_000,
  hookTimeout: 120_000,
  env: { NODE_ENV: "test" as const },
};

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    projects: [
      {
        extends: true,
        test: { ...shared, name: "unit", include: ["tests/unit/**/*.test.ts"] },
      },
      {
        extends: true,
        test: {
          ...shared,
          name: "pglite",
          include: ["tests/integration/**/*.test.ts"],
          env: { ...shared.env, TEST_DB: "pglite" },
          globalSetup: ["tests/support/global-db.ts"],
        },
      },
      {
        extends: true,
        test: {
          ...shared,
          name: "postgres",
          include: ["tests/integration/**/*.test.ts", "tests/postgres/**/*.test.ts"],
          env: { ...shared.env, TEST_DB: "postgres" },
          globalSetup: ["tests/support/global-db.ts"],
        },
      },
      {
        extends: true,
        test: {
          ...shared,
          name: "e2e",
          include: ["tests/e2e/**/*.test.ts"],
          globalSetup: ["tests/e2e/support/global-setup.ts"],
          // One browser and one server for the whole project; files run one after another.
          fileParallelism: false,
          testTimeout: 120_000,
        },
      },
    ],
  },
});
