import { redirect, unstable_rethrow } from "next/navigation";
import type { z } from "zod";
import { type Db, getDb } from "../../db/client";
import { getSessionUser, type SessionUser } from "../auth/session";
import type { UserRole } from "../auth/user";
import { type Env, getEnv } from "../env";
import { DomainError } from "../errors";
import { log, reportError } from "../observability/log";
import { storable } from "../schemas/common";

// Server actions behind one wrapper, as route handlers are behind withUser/withInternal: authorize
// the role on the server (whatever the page showed), parse the form with zod, run the action, and
// come back to a page with a notice or an error in the URL. A refusal is an answer, never a throw:
// signed out goes to sign-in, a role not allowed gets a 403-style message; neither is a 500, a
// stack in the log or a Sentry event. A domain error's message is shown (it is written for people);
// anything else is reported to Sentry once and shown as "something went wrong", never its text.

export type ActionOutcome =
  /** Back to `to` (default: the action's page) with a success notice. */
  | { notice: string; to?: string }
  /** Back with an error the user can act on (a rule of the form the schema cannot say). */
  | { error: string; to?: string }
  /** Somewhere else entirely: a run's page, Stripe's hosted onboarding. */
  | { redirectTo: string };

type Roles = readonly UserRole[] | "anyone";

export type ActionSpec<S extends z.ZodType, R extends Roles = Roles> = {
  /** For the log and Sentry. */
  name: string;
  /** Who may run it; "anyone" for sign-in itself. */
  roles: R;
  /** The page the form is on: where refusals, a bad form and (by default) the outcome go. */
  page: string;
  /** Once the form parsed, the page to come back to if it is not `page` (a run's own page). */
  back?: (input: z.output<S>) => string;
  form: S;
  /** The error shown when the form does not parse. */
  invalid: string;
  /** Put before the message of a domain error or of the unexpected: "Retry refused". */
  failed: string | ((input: z.output<S>) => string);
};

export type ActionContext<I, R extends Roles = Roles> = {
  input: I;
  /** The signed-in user, whose role was checked; null for an action open to anyone. */
  user: R extends "anyone" ? null : SessionUser;
  db: Db;
  env: Env;
};

/** `path` with `?kind=text` (or `&kind=text`) appended. */
export function withFlash(path: string, kind: "notice" | "error", text: string): string {
  return `${path}${path.includes("?") ? "&" : "?"}${kind}=${encodeURIComponent(text)}`;
}

/** The string fields of a submitted form, without React's own `$ACTION_*` fields. */
export function formValues(formData: FormData): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of formData.entries()) if (typeof v === "string" && !k.startsWith("$ACTION")) out[k] = v;
  return out;
}

export const UNEXPECTED_ACTION_ERROR = "something went wrong; it has been reported";

/**
 * Where the action ends: the URL to redirect to. Everything but the redirect itself, so tests can
 * run it with a user of their choosing.
 */
export async function resolveAction<S extends z.ZodType, R extends Roles>(
  spec: ActionSpec<S, R>,
  handler: (ctx: ActionContext<z.output<S>, R>) => Promise<ActionOutcome>,
  user: SessionUser | null,
  formData: FormData,
): Promise<string> {
  if (spec.roles !== "anyone") {
    if (!user) return `/sign-in?next=${encodeURIComponent(spec.page)}`;
    if (!spec.roles.includes(user.role)) {
      log.info("action refused", { action: spec.name, role: user.role });
      return withFlash(spec.page, "error", `Your role (${user.role}) may not do this.`);
    }
  }
  const parsed = storable(spec.form).safeParse(formValues(formData));
  if (!parsed.success) return withFlash(spec.page, "error", spec.invalid);
  const page = spec.back?.(parsed.data) ?? spec.page;
  const failed = typeof spec.failed === "string" ? spec.failed : spec.failed(parsed.data);
  try {
    const ctx = { input: parsed.data, user, db: await getDb(), env: getEnv() } as ActionContext<z.output<S>, R>;
    const outcome = await handler(ctx);
    if ("redirectTo" in outcome) return outcome.redirectTo;
    if ("notice" in outcome) return withFlash(outcome.to ?? page, "notice", outcome.notice);
    return withFlash(outcome.to ?? page, "error", outcome.error);
  } catch (error) {
    unstable_rethrow(error);
    if (error instanceof DomainError) {
      log.info("action refused", { action: spec.name, code: error.code });
      return withFlash(page, "error", `${failed}: ${error.message}`);
    }
    reportError(error, { action: spec.name });
    return withFlash(page, "error", `${failed}: ${UNEXPECTED_ACTION_ERROR}.`);
  }
}

/** A server action: `export const retryPayoutAction = withAction({ ... }, async ({ input, user }) => ...)`. */
export function withAction<S extends z.ZodType, R extends Roles>(
  spec: ActionSpec<S, R>,
  handler: (ctx: ActionContext<z.output<S>, R>) => Promise<ActionOutcome>,
): (formData: FormData) => Promise<void> {
  return async (formData: FormData) => {
    const user = spec.roles === "anyone" ? null : await getSessionUser();
    redirect(await resolveAction(spec, handler, user, formData));
  };
}
