import * as Sentry from "@sentry/nextjs";

// Structured one-line logs. Secrets never reach here: callers pass ids and codes, not headers/bodies.
// Nor does personal data: a failed query's error carries its parameters (payees' emails and names)
// in drizzle's message, and Postgres' own message and detail can quote a value, so a database error
// is written as its statement's name and Postgres' code (errorText), everywhere an error's text goes:
// the log, Sentry, Slack alerts and the failure reasons stored on rows.
type Fields = Record<string, unknown>;

function line(level: string, message: string, fields?: Fields): string {
  return JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...fields });
}

export const log = {
  info: (message: string, fields?: Fields) => console.info(line("info", message, fields)),
  warn: (message: string, fields?: Fields) => console.warn(line("warn", message, fields)),
  error: (message: string, fields?: Fields) => console.error(line("error", message, fields)),
};

type DatabaseFailure = { statement: string; code: string; constraint?: string };

/**
 * A statement's name, from its text: the verb and the first table it names ("insert payees",
 * "select payout_runs"). Never the text itself: a raw statement can carry a literal.
 */
export function statementName(sqlText: string): string {
  const verb = /\b(select|insert|update|delete|with)\b/i.exec(sqlText)?.[1]?.toLowerCase() ?? "statement";
  const table = /\b(?:into|update|from)\s+"?([a-z_][a-z0-9_]*)"?/i.exec(sqlText)?.[1];
  return table ? `${verb} ${table}` : verb;
}

/** The database failure anywhere in an error's cause chain (drizzle wraps the driver's), or null. */
function databaseFailure(error: unknown): DatabaseFailure | null {
  let statement: string | undefined;
  for (let e = error as Record<string, unknown> | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.query === "string" && statement === undefined) statement = statementName(e.query);
    if (typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === "string") {
      const constraint = (e.constraint ?? e.constraint_name) as unknown;
      return {
        statement: statement ?? (typeof e.query === "string" ? statementName(e.query) : "statement"),
        code: e.code,
        ...(typeof constraint === "string" ? { constraint } : {}),
      };
    }
  }
  // drizzle's wrapper without a Postgres error under it (the connection failed, say).
  return statement !== undefined && (error as Error).message?.startsWith("Failed query:") ? { statement, code: "none" } : null;
}

/** An error's text, safe to log, report, alert and store: a failed query is its name and code. */
export function errorText(error: unknown): string {
  const failure = databaseFailure(error);
  if (failure) {
    return `query failed (${failure.statement}): Postgres ${failure.code}${failure.constraint ? ` on ${failure.constraint}` : ""}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The error as it is reported: its safe text and its own stack frames, without the cause chain. */
function reportable(error: unknown): { error: unknown; fields: Fields } {
  const failure = databaseFailure(error);
  if (!failure) return { error, fields: { stack: error instanceof Error ? error.stack : undefined } };
  const safe = new Error(errorText(error));
  safe.name = "DatabaseError";
  const stack = (error as Error).stack ?? "";
  const frames = stack.indexOf("\n    at ");
  safe.stack = `${safe.name}: ${safe.message}${frames >= 0 ? stack.slice(frames) : ""}`;
  return { error: safe, fields: { ...failure, stack: safe.stack } };
}

/**
 * The SDK's functions, wherever this module system put them: under tsx outside Next (the CLIs, the
 * fault suite) `import * as` of the SDK's CommonJS build can miss its re-exports and find them on
 * `default` only.
 */
const sdkDefault = (Sentry as unknown as { default?: typeof Sentry }).default;
const captureException = Sentry.captureException ?? sdkDefault?.captureException;
const captureMessage = Sentry.captureMessage ?? sdkDefault?.captureMessage;

/** Unexpected errors (5xx) go to Sentry and the log; expected ones (4xx) only to the log. */
export function reportError(error: unknown, context: Fields = {}): void {
  const { error: safe, fields } = reportable(error);
  log.error(errorText(error), { ...context, ...fields });
  try {
    captureException?.(safe, { extra: context });
  } catch {
    // Monitoring never fails the work it watches.
  }
}

/** A message to Sentry (a metric over its threshold, a drift found): never throws. */
export function reportMessage(
  message: string,
  context: { level: "info" | "warning" | "error"; tags?: Record<string, string>; extra?: Record<string, unknown> },
): void {
  try {
    captureMessage?.(message, context);
  } catch {
    // Monitoring never fails the work it watches.
  }
}

type SentryEvent = { exception?: { values?: { type?: string; value?: string }[] } };

// The error classes of the two drivers (postgres.js, PGlite): their messages can quote a value.
const DRIVER_ERROR_TYPES = new Set(["PostgresError", "error"]);

/**
 * Sentry's beforeSend: errors that reach Sentry without reportError (a page or action that threw,
 * through onRequestError) get the same treatment: a failed query becomes its name, and the driver
 * errors chained under it are dropped.
 */
export function scrubSentryEvent<E extends SentryEvent>(event: E): E {
  const values = event.exception?.values;
  if (!values?.some((v) => v.value?.startsWith("Failed query:"))) return event;
  event.exception!.values = values
    .filter((v) => !DRIVER_ERROR_TYPES.has(v.type ?? ""))
    .map((v) => {
      if (!v.value?.startsWith("Failed query:")) return v;
      const query = v.value.replace(/^Failed query: /, "").split("\nparams:")[0] ?? "";
      return { ...v, type: "DatabaseError", value: `query failed (${statementName(query)})` };
    });
  return event;
}
