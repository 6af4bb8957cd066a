// A stand-in for one deployed app instance, in its own process, so a test can SIGKILL it mid-slice
// the way a platform kills a function: the real /internal route handlers behind node:http, the
// database at DATABASE_URL (postgres only: PGlite is one process), the local dispatcher's pump
// delivering continuations to this instance. Prints `listening <url>` once it serves.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { NextRequest } from "next/server";
import { POST as continueRoute } from "../../app/internal/payouts/continue/route";
import { POST as runRoute } from "../../app/internal/payouts/run/route";
import { POST as watchdogRoute } from "../../app/internal/payouts/watchdog/route";
import { getDb } from "../../db/client";
import { getEnv, resetEnvCache } from "../../lib/env";
import { startLocalDispatchPump } from "../../lib/scheduler/local-pump";

type Handler = (req: NextRequest, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;
const routes: Record<string, Handler> = {
  "/internal/payouts/run": runRoute as Handler,
  "/internal/payouts/continue": continueRoute as Handler,
  "/internal/payouts/watchdog": watchdogRoute as Handler,
};

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", async () => {
    const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
    const handler = req.method === "POST" ? routes[url.pathname] : undefined;
    if (!handler) {
      res.writeHead(404).end();
      return;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const body = Buffer.concat(chunks);
    const response = await handler(new NextRequest(url, { method: "POST", headers, body: body.length ? body : undefined }), {
      params: Promise.resolve({}),
    });
    res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
process.env.APP_BASE_URL = url;
resetEnvCache();
const env = getEnv();
await startLocalDispatchPump({ db: await getDb(), baseUrl: url, cronSecret: env.CRON_SECRET_KEY!, pollMs: 100 });
console.log(`listening ${url}`);
