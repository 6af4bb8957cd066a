import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { text } from "node:stream/consumers";

// The part of QStash the app uses to continue its work (lib/scheduler/dispatch.ts): publish with a
// deduplication id, a delay and a flow-control key, through the real @upstash/qstash Client. The
// suite delivers the messages itself, when and how often its schedule says (QStash redelivers a
// message whose delivery failed or timed out, and may deliver one twice).

export type QueuedMessage = {
  id: string;
  /** Path on the app, e.g. /internal/payouts/continue */
  path: string;
  body: string;
  deduplicationId?: string;
  /** Virtual epoch ms before which QStash would not deliver it. */
  notBefore: number;
  deliveries: number;
  /** A delivery answered 2xx: QStash forgets it. */
  acknowledged: boolean;
};

export type QStashStandIn = {
  url: string;
  token: string;
  messages: QueuedMessage[];
  /** Messages not acknowledged yet whose delay has passed at virtual time `now`. */
  due(now: number): QueuedMessage[];
  /** Not acknowledged yet, due or not. */
  open(): QueuedMessage[];
  close(): Promise<void>;
};

/** `clock()` is the suite's virtual time (real time plus the time it made pass). */
export async function startQStashStandIn(clock: () => number): Promise<QStashStandIn> {
  const token = `qstash_faults_${randomUUID()}`;
  const messages: QueuedMessage[] = [];
  const server: Server = createServer(async (req, res) => {
    const answer = (status: number, json: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
    const path = req.url ?? "/";
    if (req.headers.authorization !== `Bearer ${token}`) return answer(401, { error: "unauthorized" });
    if (req.method !== "POST" || !path.startsWith("/v2/publish/")) return answer(404, { error: `no route ${req.method} ${path}` });
    const body = await text(req);
    const header = (name: string) => [req.headers[name.toLowerCase()]].flat()[0];
    const destination = new URL(decodeURIComponent(path.slice("/v2/publish/".length)));
    const deduplicationId = header("Upstash-Deduplication-Id");
    const existing = deduplicationId ? messages.find((m) => m.deduplicationId === deduplicationId) : undefined;
    if (existing) return answer(202, { messageId: existing.id, deduplicated: true });
    const delay = header("Upstash-Delay");
    const message: QueuedMessage = {
      id: `msg_${randomUUID()}`,
      path: destination.pathname,
      body,
      deduplicationId,
      notBefore: clock() + (delay ? Number.parseInt(delay, 10) * 1000 : 0),
      deliveries: 0,
      acknowledged: false,
    };
    messages.push(message);
    return answer(201, { messageId: message.id });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    messages,
    due: (now) => messages.filter((m) => !m.acknowledged && m.notBefore <= now),
    open: () => messages.filter((m) => !m.acknowledged),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
