// Runs once when the server starts: a bad configuration stops it here, with every problem named.
// On the embedded default it also starts the local dispatcher's pump (QStash's part locally).
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { getEnv } = await import("./lib/env");
  const env = getEnv();
  if (env.SENTRY_DSN) {
    const Sentry = await import("@sentry/nextjs");
    Sentry.init({ dsn: env.SENTRY_DSN, tracesSampleRate: 0, environment: env.NODE_ENV });
  }
  if (env.schedulerMode === "local" && process.env.NEXT_PHASE !== "phase-production-build") {
    const { startAppDispatchPump } = await import("./lib/scheduler/local-pump");
    await startAppDispatchPump(env);
  }
}

export { captureRequestError as onRequestError } from "@sentry/nextjs";
