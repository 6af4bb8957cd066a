import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST } from "@/app/webhooks/stripe/route";
import { resetEnvCache } from "@/lib/env";
import {
  buildEvent,
  signPayload,
  signedDelivery,
  TEST_WEBHOOK_SECRET,
  testWebhookSecrets,
  webhookRequest,
} from "../../support/stripe-events";

// Refusals happen before the route touches the database, so these run on either project without one.
const saved = { ...process.env };
beforeAll(() => {
  Object.assign(process.env, testWebhookSecrets);
  resetEnvCache();
});
afterAll(() => {
  process.env = saved;
  resetEnvCache();
});

describe("POST /webhooks/stripe refusals", () => {
  it("answers 413 JSON for a body over 1 MB", async () => {
    const body = JSON.stringify({ ...buildEvent("plan.created", "plan"), padding: "x".repeat(1024 * 1024) });
    const res = await POST(webhookRequest(body, signPayload(body, TEST_WEBHOOK_SECRET)));
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe("payload_too_large");
  });

  it("answers 400 JSON for a missing, bad or stale signature and for a tampered body", async () => {
    const { body, signature } = signedDelivery(buildEvent("account.updated", "account"));
    const stale = signPayload(body, TEST_WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 600);
    for (const [b, s] of [
      [body, null],
      [body, "t=1,v1=deadbeef"],
      [body, stale],
      [body.replace("acct_", "acct_x"), signature],
    ] as const) {
      const res = await POST(webhookRequest(b, s));
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect((await res.json()).error.code).toBe("invalid_signature");
    }
  });

  it("answers 400 for a signature timestamped beyond the tolerance in the future, as in the past", async () => {
    const { body } = signedDelivery(buildEvent("account.updated", "account"));
    const now = Math.floor(Date.now() / 1000);
    for (const at of [now + 3600, now + 301, now - 301]) {
      const res = await POST(webhookRequest(body, signPayload(body, TEST_WEBHOOK_SECRET, at)));
      expect(res.status, String(at - now)).toBe(400);
      expect((await res.json()).error.code).toBe("invalid_signature");
    }
  });

  it("answers 400 JSON for a signed body that is not JSON", async () => {
    const body = "not json at all";
    const res = await POST(webhookRequest(body, signPayload(body, TEST_WEBHOOK_SECRET)));
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("invalid_json");
  });
});
