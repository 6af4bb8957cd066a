import * as Sentry from "@sentry/nextjs";

// Structured one-line logs. Secrets never reach here: callers pass ids and codes, not headers/bodies.
type Fields = Record<string, unknown>;

function line(level: string, message: string, fields?: Fields): string {
  return JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...fields });
}

export const log = {
  info: (message: string, fields?: Fields) => console.info(line("info", message, fields)),
  warn: (message: string, fields?: Fields) => console.warn(line("warn", message, fields)),
  error: (message: string, fields?: Fields) => console.error(line("error", message, fields)),
};

/** Unexpected errors (5xx) go to Sentry and the log; expected ones (4xx) only to the log. */
export function reportError(error: unknown, context: Fields = {}): void {
  log.error(error instanceof Error ? error.message : String(error), {
    ...context,
    stack: error instanceof Error ? error.stack : undefined,
  });
  Sentry.captureException(error, { extra: context });
}
