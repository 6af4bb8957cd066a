import type { IncomingMessage, ServerResponse } from "node:http";
import { invalidRequest, parameterUnknown, SimulatedStripeError } from "./errors";
import { type FaultInjector, METER_EVENTS_ENDPOINT } from "./faults";
import { fingerprintForm, optionalStringArray, parseStripeForm } from "./form";
import { expandBody } from "./expand";
import { newId } from "./ids";
import type { IdempotencyStore } from "./idempotency";
import type { RequestLog } from "./request-log";
import type { Router } from "./router";
import type { SimulatorState } from "./state";

export interface ApiDependencies {
  state: SimulatorState;
  router: Router;
  idempotency: IdempotencyStore;
  faults: FaultInjector;
  log: RequestLog;
  /** Meter event calls in flight, by customer and event name (Stripe takes one at a time for each). */
  meterEventsInFlight: Set<string>;
}

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string>;
}

function errorAnswer(error: SimulatedStripeError): Answer {
  return { status: error.status, body: JSON.stringify(error.toJson()), headers: error.headers };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The API key from `Authorization: Bearer sk_...` (or Basic with the key as user name, which Stripe also accepts). */
function apiKeyOf(req: IncomingMessage): string | undefined {
  const authorization = header(req, "authorization");
  if (!authorization) return undefined;
  if (authorization.startsWith("Bearer ")) return authorization.slice(7).trim();
  if (authorization.startsWith("Basic "))
    return Buffer.from(authorization.slice(6), "base64").toString("utf8").split(":")[0];
  return undefined;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const RATE_LIMIT_MESSAGE =
  "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.";

/** Serves one request on Stripe's surface (/v1/...): faults, auth, routing, idempotency, handler, log. */
export async function handleApiRequest(
  deps: ApiDependencies,
  req: IncomingMessage,
  res: ServerResponse,
  rawBody: string,
): Promise<void> {
  const { faults } = deps;
  const method = req.method ?? "GET";
  // Stripe takes one meter event call at a time per customer and meter: a second is a 429.
  let meterLane: string | undefined;
  if (faults.meterEventsLimited() && `${method} ${new URL(req.url ?? "/", "http://simulator").pathname}` === METER_EVENTS_ENDPOINT) {
    const form = parseStripeForm(rawBody);
    const payload = form.payload;
    const customer = typeof payload === "object" && !Array.isArray(payload) ? payload.stripe_customer_id : undefined;
    const lane = `${String(customer)} ${String(form.event_name)}`;
    if (!deps.meterEventsInFlight.has(lane)) {
      meterLane = lane;
      deps.meterEventsInFlight.add(lane);
    } else meterLane = "busy";
  }
  try {
    await serveApiRequest(deps, req, res, rawBody, meterLane === "busy");
  } finally {
    if (meterLane && meterLane !== "busy") deps.meterEventsInFlight.delete(meterLane);
  }
}

async function serveApiRequest(
  deps: ApiDependencies,
  req: IncomingMessage,
  res: ServerResponse,
  rawBody: string,
  meterLaneBusy: boolean,
): Promise<void> {
  const { state, router, idempotency, faults, log } = deps;
  const method = req.method ?? "GET";
  const url = new URL(req.url ?? "/", "http://simulator");
  const path = url.pathname;
  const requestId = newId("req");
  const apiVersion = header(req, "stripe-version") ?? state.config.apiVersion;
  const idempotencyKey = method === "POST" ? header(req, "idempotency-key") : undefined;
  const stripeAccount = header(req, "stripe-account");
  const match = router.match(method, path);
  const endpoint = match?.endpoint;
  const created: string[] = [];
  let replayed = false;
  let faultName: string | undefined;

  const decision: ReturnType<FaultInjector["decide"]> = meterLaneBusy
    ? { kind: "rate_limited", latencyMs: 0 }
    : faults.decide(endpoint ?? `${method} ${path}`);
  if (decision.latencyMs > 0) await sleep(decision.latencyMs);

  const finish = (answer: Answer, dropAfter = false): void => {
    let errorCode: string | undefined;
    if (answer.status >= 400) {
      try {
        const parsed = JSON.parse(answer.body) as { error?: { code?: string; type?: string } };
        errorCode = parsed.error?.code ?? parsed.error?.type;
      } catch {
        errorCode = undefined;
      }
    }
    log.append({
      at: state.now(),
      method,
      path,
      endpoint,
      account: stripeAccount,
      idempotencyKey,
      requestId,
      status: answer.status,
      replayed,
      createdIds: created,
      ...(errorCode ? { errorCode } : {}),
      ...(faultName || dropAfter ? { fault: dropAfter ? "drop_after" : faultName } : {}),
    });
    if (dropAfter) {
      // The work is done and saved; only the answer is lost, as when a connection dies mid-response.
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, {
      "Content-Type": "application/json",
      "Request-Id": requestId,
      "Stripe-Version": apiVersion,
      ...(idempotencyKey ? { "Idempotency-Key": idempotencyKey } : {}),
      ...answer.headers,
    });
    res.end(answer.body);
  };

  if (decision.kind === "drop") {
    faultName = "drop";
    finish({ status: 0, body: "", headers: {} }, true);
    return;
  }
  if (decision.kind === "rate_limited" || decision.kind === "lock_timeout") {
    faultName = decision.kind;
    const lock = decision.kind === "lock_timeout";
    // The SDK retries a 429 only when told to; Stripe says so for rate limits and lock timeouts.
    const error = new SimulatedStripeError(
      429,
      lock
        ? {
            type: "invalid_request_error",
            code: "lock_timeout",
            message:
              "This object cannot be accessed right now because another API request or Stripe process is currently accessing it. If you see this error intermittently, retry the request.",
          }
        : {
            type: "invalid_request_error",
            code: "rate_limit",
            message: RATE_LIMIT_MESSAGE,
            doc_url: "https://stripe.com/docs/error-codes/rate-limit",
          },
      true,
      { "Stripe-Should-Retry": "true", "Retry-After": "1" },
    );
    finish(errorAnswer(error));
    return;
  }
  if (decision.kind === "server_error") {
    faultName = "server_error";
    finish({
      status: 500,
      body: JSON.stringify({
        error: { type: "api_error", message: "An unknown error occurred (injected by the simulator)." },
      }),
      headers: {},
    });
    return;
  }

  const apiKey = apiKeyOf(req);
  if (!apiKey) {
    finish(
      errorAnswer(
        invalidRequest(
          "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
          undefined,
          undefined,
          401,
        ),
      ),
    );
    return;
  }
  if (!/^(sk|rk)_(test|live)_/.test(apiKey)) {
    finish(
      errorAnswer(
        invalidRequest(
          `Invalid API Key provided: ${apiKey.slice(0, 8)}****`,
          "api_key_invalid",
          undefined,
          401,
        ),
      ),
    );
    return;
  }
  if (!match) {
    finish(
      errorAnswer(
        invalidRequest(
          `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
          undefined,
          undefined,
          404,
        ),
      ),
    );
    return;
  }
  let account = state.platformAccountId;
  if (stripeAccount && stripeAccount !== state.platformAccountId) {
    const entry = state.lookup(stripeAccount);
    if (entry?.kind !== "account") {
      finish(
        errorAnswer(
          new SimulatedStripeError(403, {
            type: "invalid_request_error",
            code: "account_invalid",
            message: `The provided key '${apiKey.slice(0, 8)}****' does not have access to account '${stripeAccount}' (or that account does not exist). Application access may have been revoked.`,
          }),
        ),
      );
      return;
    }
    account = stripeAccount;
  }

  const encodedParams =
    method === "GET" || method === "DELETE" ? url.search.slice(1) : rawBody || url.search.slice(1);
  const fingerprint = `${method} ${path}\n${fingerprintForm(encodedParams)}`;
  if (idempotencyKey) {
    const found = idempotency.lookup(account, idempotencyKey, fingerprint, state.now());
    if (found.kind === "mismatch") {
      const error = new SimulatedStripeError(400, {
        type: "idempotency_error",
        message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
      });
      finish(errorAnswer(error));
      return;
    }
    if (found.kind === "replay") {
      replayed = true;
      finish({
        status: found.saved.status,
        body: found.saved.body,
        headers: { "Idempotent-Replayed": "true", "Original-Request": found.saved.requestId },
      });
      return;
    }
  }

  let answer: Answer;
  let executed = false;
  try {
    const params = parseStripeForm(encodedParams);
    const allowed = new Set<string>([...match.route.allowedParams, "expand"]);
    for (const name of Object.keys(params)) if (!allowed.has(name)) throw parameterUnknown(name);
    const expand = optionalStringArray(params, "expand") ?? [];
    executed = true;
    state.activeRequest = { id: requestId, idempotencyKey, apiVersion, created };
    const result = match.route.handle({
      state,
      params,
      pathParams: match.pathParams,
      account,
      connected: account !== state.platformAccountId,
      path,
    });
    answer = { status: 200, body: JSON.stringify(expandBody(state, result, expand)), headers: {} };
  } catch (error) {
    if (error instanceof SimulatedStripeError) {
      answer = errorAnswer(error);
      if (error.beforeExecution) executed = false;
    } else {
      answer = {
        status: 500,
        body: JSON.stringify({
          error: { type: "api_error", message: error instanceof Error ? error.message : String(error) },
        }),
        headers: {},
      };
    }
  } finally {
    state.activeRequest = undefined;
  }
  // Stripe saves the result once the endpoint has started executing, errors included; a 500 is not saved.
  if (idempotencyKey && executed && answer.status < 500)
    idempotency.save(account, idempotencyKey, {
      status: answer.status,
      body: answer.body,
      requestId,
      fingerprint,
      savedAt: state.now(),
    });
  if (decision.kind === "none" && decision.dropAfter) faultName = "drop_after";
  finish(answer, decision.kind === "none" && decision.dropAfter);
}
