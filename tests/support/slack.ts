import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

// A local HTTP listener standing in for a Slack incoming webhook: records every post.

export type LocalSlack = {
  url: string;
  posts: { text?: string; blocks?: unknown[] }[];
  /** Answer the next N posts with 500, to exercise the relay's back-off. */
  failNext(n: number): void;
  close(): Promise<void>;
};

export async function startLocalSlack(): Promise<LocalSlack> {
  const posts: LocalSlack["posts"] = [];
  let failures = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (failures > 0) {
        failures--;
        res.writeHead(500).end("internal_error");
        return;
      }
      try {
        posts.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        posts.push({ text: Buffer.concat(chunks).toString("utf8") });
      }
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/services/T000/B000/XXXX`,
    posts,
    failNext: (n) => {
      failures = n;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
