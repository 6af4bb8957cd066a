// Runs once when the server starts: a bad configuration stops it here, with every problem named.
// On the embedded default it also starts the local dispatcher's pump (QStash's part locally).
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { EnvError, getEnv } = await import("./lib/env");
  let env: ReturnType<typeof getEnv>;
  try {
    env = getEnv();
  } catch (error) {
    // Refuse to serve at all: every request would fail on the same configuration anyway.
    if (error instanceof EnvError) {
      console.error(`[payrun] ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  if (env.SENTRY_DSN) {
    const Sentry = await import("@sentry/nextjs");
    const { scrubSentryEvent } = await import("./lib/observability/log");
    Sentry.init({
      dsn: env.SENTRY_DSN,
      tracesSampleRate: 0,
      environment: env.NODE_ENV,
      // A failed query's parameters (payees' emails, names) never leave: lib/observability/log.ts.
      beforeSend: (event) => scrubSentryEvent(event),
    });
  }
  if (env.schedulerMode === "local" && process.env.NEXT_PHASE !== "phase-production-build") {
    const { startAppDispatchPump } = await import("./lib/scheduler/local-pump");
    await startAppDispatchPump(env);
  }
}

export { captureRequestError as onRequestError } from "@sentry/nextjs";
