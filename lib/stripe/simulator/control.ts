import type { IncomingMessage, ServerResponse } from "node:http";
import { SimulatedStripeError } from "./errors";
import type { FaultConfig } from "./faults";
import type { StripeSimulator } from "./index";
import type { ProcessingFee } from "./money";
import type { PayoutOutcome } from "./types";
import { isRecord } from "./types";

// The control API (/_simulator/...): never part of Stripe's surface. JSON in, JSON out.

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function numberField(body: Record<string, unknown>, name: string, required: true): number;
function numberField(body: Record<string, unknown>, name: string, required?: false): number | undefined;
function numberField(body: Record<string, unknown>, name: string, required = false): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) {
    if (required) throw new ControlError(400, `${name} is required`);
    return undefined;
  }
  const parsed = typeof value === "string" ? Number(value) : value;
  if (typeof parsed !== "number" || !Number.isFinite(parsed))
    throw new ControlError(400, `${name} must be a number`);
  return parsed;
}

function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function integerField(body: Record<string, unknown>, name: string): number | undefined {
  const value = numberField(body, name);
  if (value !== undefined && !Number.isSafeInteger(value))
    throw new ControlError(400, `${name} must be an integer (minor units)`);
  return value;
}

function requiredInteger(body: Record<string, unknown>, name: string): number {
  const value = integerField(body, name);
  if (value === undefined) throw new ControlError(400, `${name} is required`);
  return value;
}

function feesBody(fee: ProcessingFee): Record<string, number> {
  return { percent_basis_points: fee.percentBasisPoints, fixed_cents: fee.fixedCents };
}

const OUTCOMES = new Set<PayoutOutcome>(["paid", "failed", "canceled"]);

export async function handleControlRequest(
  simulator: StripeSimulator,
  req: IncomingMessage,
  res: ServerResponse,
  rawBody: string,
): Promise<void> {
  const method = req.method ?? "GET";
  const url = new URL(req.url ?? "/", "http://simulator");
  const parts = url.pathname
    .replace(/^\/_simulator\/?/, "")
    .split("/")
    .filter(Boolean);
  const route = `${method} ${parts.map((part, i) => (i % 2 === 1 && parts.length > 1 && !["advance", "settle", "onboard", "dispute", "resolve", "deliver", "suppress"].includes(part) ? ":id" : part)).join("/")}`;
  const id = parts[1] ?? "";
  let status = 200;
  let result: unknown;
  try {
    let body: Record<string, unknown> = {};
    if (rawBody.trim()) {
      const parsed: unknown = JSON.parse(rawBody);
      if (!isRecord(parsed)) throw new ControlError(400, "body must be a JSON object");
      body = parsed;
    }
    switch (route) {
      case "POST accounts/:id/onboard":
        result = simulator.onboardAccount(id, { bankFingerprint: stringField(body, "bank_fingerprint") });
        break;
      case "POST accounts/:id/bank_account":
        result = simulator.setBankAccount(id, {
          fingerprint: body.remove === true ? null : stringField(body, "fingerprint"),
          last4: stringField(body, "last4"),
        });
        break;
      case "POST accounts/:id/debit_card":
        result = simulator.addDebitCard(id, { failureCode: stringField(body, "failure_code") });
        break;
      case "POST accounts/:id/instant": {
        const cap = body.instant_available_cap === null ? null : integerField(body, "instant_available_cap");
        if (cap === undefined)
          throw new ControlError(400, "instant_available_cap is required (an integer, or null for no cap)");
        result = simulator.setInstantCap(id, cap);
        break;
      }
      case "POST payouts/:id/settle": {
        const outcome = stringField(body, "outcome");
        if (!outcome || !OUTCOMES.has(outcome as PayoutOutcome))
          throw new ControlError(400, 'outcome must be "paid", "failed" or "canceled"');
        result = simulator.settlePayout(id, outcome as PayoutOutcome, stringField(body, "failure_code"));
        break;
      }
      case "POST clock/advance":
        result = { now: simulator.advanceClock(numberField(body, "seconds", true)) };
        break;
      case "GET clock":
        result = { now: simulator.now() };
        break;
      case "GET faults":
        result = simulator.getFaults();
        break;
      case "POST faults":
        simulator.setFaults(body as FaultConfig, { merge: url.searchParams.get("merge") === "true" });
        result = simulator.getFaults();
        break;
      case "DELETE faults":
        simulator.setFaults({});
        result = simulator.getFaults();
        break;
      case "GET meter_events": {
        const identifier = url.searchParams.get("identifier");
        const events = simulator.meterEvents().filter((e) => !identifier || e.identifier === identifier);
        result = { object: "list", total: events.length, data: events.slice(-1000) };
        break;
      }
      case "GET requests": {
        const since = Number(url.searchParams.get("since") ?? 0);
        const limit = Number(url.searchParams.get("limit") ?? 1000);
        result = { object: "list", data: simulator.requests(since, limit) };
        break;
      }
      case "POST charges": {
        const destination = stringField(body, "destination");
        if (!destination) throw new ControlError(400, "destination is required");
        result = simulator.createDestinationCharge({
          destination,
          amount: numberField(body, "amount", true),
          currency: stringField(body, "currency"),
          applicationFeeAmount: numberField(body, "application_fee_amount"),
          transferAmount: numberField(body, "transfer_amount"),
          availableImmediately: body.available_immediately !== false,
        });
        break;
      }
      case "POST accounts/:id/payouts":
        result = simulator.createHandMadePayout(id, {
          amount: integerField(body, "amount"),
          currency: stringField(body, "currency"),
          automatic: body.automatic === true,
          description: stringField(body, "description"),
        });
        break;
      case "POST accounts/:id/balance_transactions": {
        const type = stringField(body, "type") ?? "adjustment";
        if (type !== "adjustment" && type !== "stripe_fee")
          throw new ControlError(400, 'type must be "adjustment" or "stripe_fee"');
        result = simulator.createAdjustment(id, {
          type,
          amount: requiredInteger(body, "amount"),
          currency: stringField(body, "currency"),
          description: stringField(body, "description"),
          reportingCategory: stringField(body, "reporting_category"),
        });
        break;
      }
      case "POST objects/:id/amount":
        result = simulator.changeAmount(id, requiredInteger(body, "amount"));
        break;
      case "POST webhooks/suppress": {
        const type = stringField(body, "type");
        if (!type) throw new ControlError(400, "type is required");
        const count = integerField(body, "count") ?? 1;
        if (count < 1) throw new ControlError(400, "count must be at least 1");
        simulator.suppressWebhooks(type, count);
        result = simulator.webhookSuppressions();
        break;
      }
      case "GET fees":
        result = feesBody(simulator.processingFee());
        break;
      case "POST fees":
        {
          const percentBasisPoints = integerField(body, "percent_basis_points") ?? 0;
          const fixedCents = integerField(body, "fixed_cents") ?? 0;
          if (percentBasisPoints < 0 || fixedCents < 0)
            throw new ControlError(400, "fees cannot be negative");
          simulator.setProcessingFee({ percentBasisPoints, fixedCents });
        }
        result = feesBody(simulator.processingFee());
        break;
      case "POST charges/:id/dispute":
        result = simulator.createDispute(id, {
          amount: numberField(body, "amount"),
          reason: stringField(body, "reason"),
        });
        break;
      case "POST disputes/:id/resolve": {
        const outcome = stringField(body, "outcome");
        if (outcome !== "won" && outcome !== "lost")
          throw new ControlError(400, 'outcome must be "won" or "lost"');
        result = simulator.resolveDispute(id, outcome);
        break;
      }
      case "GET balances/:id":
        result = simulator.balances(id);
        break;
      case "GET webhooks":
        result = {
          ...simulator.webhookConfig(),
          deliveries: simulator.webhookDeliveries().slice(-100),
          suppressions: simulator.webhookSuppressions(),
        };
        break;
      case "POST webhooks":
        simulator.configureWebhooks({
          url: body.url === null ? undefined : (stringField(body, "url") ?? simulator.webhookConfig().url),
          secret: stringField(body, "secret"),
          connectSecret: stringField(body, "connect_secret"),
          autoDeliver: typeof body.auto_deliver === "boolean" ? body.auto_deliver : undefined,
        });
        result = simulator.webhookConfig();
        break;
      case "POST webhooks/deliver":
        await simulator.deliverPendingWebhooks();
        result = { delivered: true };
        break;
      case "POST reset":
        simulator.reset();
        result = { reset: true };
        break;
      default:
        throw new ControlError(404, `Unknown control endpoint ${method} ${url.pathname}`);
    }
  } catch (error) {
    if (error instanceof SimulatedStripeError) {
      status = error.status;
      result = error.toJson();
    } else if (error instanceof ControlError) {
      status = error.status;
      result = { error: { message: error.message } };
    } else {
      status = error instanceof SyntaxError ? 400 : 500;
      result = { error: { message: error instanceof Error ? error.message : String(error) } };
    }
  }
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(result));
}
