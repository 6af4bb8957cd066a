import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { NextRequest } from "next/server";

// A plain HTTP server in front of the App Router handlers under test, so QStash (the local stand-in)
// and the local dispatcher can reach them over HTTP as they would reach the deployed app.

type Handler = (req: NextRequest, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;
export type AppRoute = { method: string; pattern: RegExp; handler: Handler; params?: string[] };

export async function startAppServer(
  routes: AppRoute[],
): Promise<{ url: string; calls: string[]; close(): Promise<void> }> {
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
      calls.push(`${req.method} ${url.pathname}`);
      const route = routes.find((r) => r.method === req.method && r.pattern.test(url.pathname));
      if (!route) {
        res.writeHead(404).end();
        return;
      }
      const match = url.pathname.match(route.pattern)!;
      const params = Object.fromEntries((route.params ?? []).map((name, i) => [name, match[i + 1]!]));
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      const body = Buffer.concat(chunks);
      const response = await route.handler(
        new NextRequest(url, { method: req.method, headers, body: body.length ? body : undefined }),
        { params: Promise.resolve(params) },
      );
      res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
      res.end(Buffer.from(await response.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
