import { withSentryConfig } from "@sentry/nextjs/config";
import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Embedded mode applies migrations at run time; ship them with the server functions.
  outputFileTracingIncludes: { "/**": ["./db/migrations/**/*"] },
  // PGlite ships WASM and data files it loads from its own folder; bundling breaks those paths.
  serverExternalPackages: ["@electric-sql/pglite", "@electric-sql/pglite-socket", "postgres"],
  poweredByHeader: false,
  typedRoutes: false,
};

// No DSN or auth token here: the build passes without them and uploads nothing.
export default withSentryConfig(nextConfig, {
  silent: true,
  telemetry: false,
  sourcemaps: { disable: true },
});
