import { createHash, createHmac, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

// A local HTTP listener standing in for QStash. The real @upstash/qstash Client talks to it
// (QSTASH_URL): publish (POST /v2/publish/<url>) and schedules (POST/GET/DELETE /v2/schedules) are
// recorded; the test then delivers a message to its destination signed exactly as QStash signs
// (HS256 JWT with the raw signing key, iss "Upstash", sub = URL, body = base64url(sha256(body)))
// with Upstash-Message-Id and Upstash-Retried headers.

export type QStashMessage = {
  messageId: string;
  url: string;
  body: string;
  headers: Record<string, string>;
  deduplicationId?: string;
  delaySeconds?: number;
  flowControlKey?: string;
  flowControlValue?: string;
  /** Epoch ms before which QStash would not deliver it (Upstash-Delay). */
  notBefore: number;
  deliveries: number;
};

export type QStashSchedule = {
  scheduleId: string;
  destination: string;
  cron: string;
  body: string;
  method: string;
  retries: number;
  createdAt: number;
  isPaused: boolean;
  flowControlKey?: string;
  header: Record<string, string[]>;
};

export type LocalQStash = {
  url: string;
  token: string;
  currentSigningKey: string;
  nextSigningKey: string;
  messages: QStashMessage[];
  schedules: Map<string, QStashSchedule>;
  /** Every request the SDK made, for assertions. */
  requests: { method: string; path: string }[];
  /** POST a message to its destination (or `rewriteBase` + its path), signed; returns the response. */
  deliver(message: QStashMessage, options?: { retried?: number; rewriteBase?: string; signingKey?: string }): Promise<Response>;
  /** Fire a schedule as QStash would at its time: a new message to its destination, delivered signed. */
  fireSchedule(scheduleId: string, options?: { rewriteBase?: string }): Promise<Response>;
  /** Deliver every not-yet-delivered message (in order, each not before its delay), repeating until none is left or `max` rounds. */
  drain(options?: { rewriteBase?: string; max?: number }): Promise<Response[]>;
  close(): Promise<void>;
};

const b64url = (input: Buffer | string) => Buffer.from(input).toString("base64url");

/** A QStash `Upstash-Signature` for `body` sent to `url`, as QStash makes it. */
export function signQStash(signingKey: string, url: string, body: string, nowSeconds = Math.floor(Date.now() / 1000)): string {
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = b64url(
    JSON.stringify({
      iss: "Upstash",
      sub: url,
      exp: nowSeconds + 300,
      nbf: nowSeconds,
      iat: nowSeconds,
      jti: `jwt_${randomUUID()}`,
      body: createHash("sha256").update(body).digest("base64url"),
    }),
  );
  const signature = createHmac("sha256", signingKey).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function startLocalQStash(
  options: { token?: string; currentSigningKey?: string; nextSigningKey?: string } = {},
): Promise<LocalQStash> {
  const token = options.token ?? "qstash_test_token";
  const currentSigningKey = options.currentSigningKey ?? "sig_current_test_key";
  const nextSigningKey = options.nextSigningKey ?? "sig_next_test_key";
  const messages: QStashMessage[] = [];
  const schedules = new Map<string, QStashSchedule>();
  const requests: { method: string; path: string }[] = [];
  const delivered = new Set<string>();

  const server: Server = createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const path = req.url ?? "/";
    requests.push({ method: req.method ?? "GET", path });
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: "unauthorized" });
    const body = await readBody(req);
    const h = (name: string) => {
      const v = req.headers[name.toLowerCase()];
      return Array.isArray(v) ? v[0] : v;
    };
    const forwarded: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (k.startsWith("upstash-forward-") && typeof v === "string") forwarded[k.slice("upstash-forward-".length)] = v;
    }
    if (req.method === "POST" && path.startsWith("/v2/publish/")) {
      const url = decodeURIComponent(path.slice("/v2/publish/".length));
      const dedupe = h("Upstash-Deduplication-Id");
      const existing = dedupe ? messages.find((m) => m.deduplicationId === dedupe) : undefined;
      if (existing) return send(202, { messageId: existing.messageId, deduplicated: true });
      const delay = h("Upstash-Delay");
      const message: QStashMessage = {
        messageId: `msg_${randomUUID()}`,
        url,
        body,
        headers: { "content-type": h("Content-Type") ?? "application/json", ...forwarded },
        deduplicationId: dedupe,
        delaySeconds: delay ? Number.parseInt(delay, 10) : undefined,
        flowControlKey: h("Upstash-Flow-Control-Key"),
        flowControlValue: h("Upstash-Flow-Control-Value"),
        notBefore: Date.now() + (delay ? Number.parseInt(delay, 10) * 1000 : 0),
        deliveries: 0,
      };
      messages.push(message);
      return send(201, { messageId: message.messageId });
    }
    if (req.method === "POST" && path.startsWith("/v2/schedules/")) {
      const destination = decodeURIComponent(path.slice("/v2/schedules/".length));
      const scheduleId = h("Upstash-Schedule-Id") ?? `scd_${randomUUID()}`;
      const header: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(forwarded)) header[k] = [v];
      schedules.set(scheduleId, {
        scheduleId,
        destination,
        cron: h("Upstash-Cron") ?? "",
        body,
        method: h("Upstash-Method") ?? "POST",
        retries: Number(h("Upstash-Retries") ?? 3),
        createdAt: schedules.get(scheduleId)?.createdAt ?? Date.now(),
        isPaused: false,
        flowControlKey: h("Upstash-Flow-Control-Key"),
        header,
      });
      return send(201, { scheduleId });
    }
    if (req.method === "GET" && path === "/v2/schedules") return send(200, [...schedules.values()]);
    const one = path.match(/^\/v2\/schedules\/([^/]+)$/);
    if (one && req.method === "GET") {
      const s = schedules.get(decodeURIComponent(one[1]!));
      return s ? send(200, s) : send(404, { error: "schedule not found" });
    }
    if (one && req.method === "DELETE") {
      schedules.delete(decodeURIComponent(one[1]!));
      return send(200, {});
    }
    return send(404, { error: `no route ${req.method} ${path}` });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const deliver: LocalQStash["deliver"] = async (message, opts = {}) => {
    message.deliveries++;
    delivered.add(message.messageId);
    // The signature covers the URL QStash called (the public one), whatever the test rewrites to.
    const target = opts.rewriteBase ? new URL(new URL(message.url).pathname + new URL(message.url).search, opts.rewriteBase).toString() : message.url;
    return fetch(target, {
      method: "POST",
      headers: {
        ...message.headers,
        "upstash-signature": signQStash(opts.signingKey ?? currentSigningKey, message.url, message.body),
        "upstash-message-id": message.messageId,
        "upstash-retried": String(opts.retried ?? message.deliveries - 1),
      },
      body: message.body,
    });
  };

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    currentSigningKey,
    nextSigningKey,
    messages,
    schedules,
    requests,
    deliver,
    fireSchedule: async (scheduleId, opts = {}) => {
      const s = schedules.get(scheduleId);
      if (!s) throw new Error(`no schedule ${scheduleId}`);
      const message: QStashMessage = {
        messageId: `msg_${randomUUID()}`,
        url: s.destination,
        body: s.body,
        headers: { "content-type": s.header["content-type"]?.[0] ?? "application/json" },
        flowControlKey: s.flowControlKey,
        notBefore: Date.now(),
        deliveries: 0,
      };
      messages.push(message);
      return deliver(message, opts);
    },
    drain: async ({ rewriteBase, max = 50 } = {}) => {
      const responses: Response[] = [];
      for (let round = 0; round < max; round++) {
        const next = messages.find((m) => !delivered.has(m.messageId));
        if (!next) break;
        // As QStash: not before its delay.
        const wait = next.notBefore - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        responses.push(await deliver(next, { rewriteBase }));
      }
      return responses;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
