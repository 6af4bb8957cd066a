// Serves one PGlite over the Postgres wire protocol on a Unix socket, so that every process on the
// embedded default (the app, the CLIs, psql) reaches the same database as clients of a server.
//
// @electric-sql/pglite-socket frames the protocol and owns the sockets (PGLiteSocketHandler). Its own
// queue is not used: it interleaves connections message by message and keeps one connection's
// messages together only inside an explicit transaction block, so an extended-protocol query
// (postgres.js sends Parse/Describe/Flush, waits, then Bind/Execute/Sync on the unnamed statement)
// could bind another connection's statement. PGlite has one backend session, so SessionQueue gives
// it to one connection at a time, from that connection's first message until the backend is idle
// again: ReadyForQuery with status 'I' (after a Sync or a simple query, outside a transaction block).
// In a transaction ('T', 'E'), mid extended query (no ReadyForQuery yet) or mid COPY, the session
// stays with its connection, and the others' messages wait in order.
import { chmodSync, mkdirSync, rmdirSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import path from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from "@electric-sql/pglite-socket";

type Job = {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: Error) => void;
};

const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I': ReadyForQuery's status outside a transaction block
const TERMINATE = 0x58; // 'X'

/** Frontend messages the queue sends itself to end what a lost connection left open. */
const encoder = new TextEncoder();
function message(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out[0] = type.charCodeAt(0);
  new DataView(out.buffer).setInt32(1, 4 + body.length);
  out.set(body, 5);
  return out;
}
const ROLLBACK_QUERY = message("Q", encoder.encode("ROLLBACK\0"));
const SYNC = message("S", new Uint8Array());

/**
 * One backend session shared by many connections, handed to one connection at a time. It has the
 * interface PGLiteSocketHandler expects of its queue (enqueue, clearQueueForHandler,
 * clearTransactionIfNeeded).
 */
export class SessionQueue {
  private readonly jobs: Job[] = [];
  /** The connection the session belongs to until the backend is idle again, or null. */
  private owner: number | null = null;
  private readonly gone = new Set<number>();
  private pumping = false;

  constructor(private readonly pglite: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    if (message[0] === TERMINATE) return Promise.resolve(0); // the socket's close cleans up after it
    return new Promise((resolve, reject) => {
      this.jobs.push({ handlerId, message, onData, resolve, reject });
      void this.pump();
    });
  }

  getQueueLength(): number {
    return this.jobs.length;
  }

  /** A connection went away: drop what it still had queued. */
  clearQueueForHandler(handlerId: number): void {
    for (let i = this.jobs.length - 1; i >= 0; i--) {
      const job = this.jobs[i]!;
      if (job.handlerId !== handlerId) continue;
      this.jobs.splice(i, 1);
      job.reject(new Error("connection closed"));
    }
  }

  /**
   * A connection went away: if it held the session, undo what it left open, as a server does for a
   * lost connection (its transaction, or the implicit one of an unfinished extended query, rolls
   * back), then give the session to the next connection.
   */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    this.gone.add(handlerId);
    await this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        if (this.owner !== null && this.gone.has(this.owner)) {
          await this.resetSession().catch((error: Error) => console.error(`[payrun] embedded database: could not reset a lost connection's session: ${error.message}`));
          this.owner = null;
        }
        this.gone.clear();
        const next = this.owner === null ? 0 : this.jobs.findIndex((j) => j.handlerId === this.owner);
        if (next < 0 || next >= this.jobs.length) return;
        const job = this.jobs.splice(next, 1)[0]!;
        await this.run(job);
      }
    } finally {
      this.pumping = false;
    }
  }

  private async run(job: Job): Promise<void> {
    let bytes = 0;
    // The answer's last six bytes: a ReadyForQuery ('Z', length 5, status) ends every complete one.
    let tail = new Uint8Array(0);
    try {
      await this.pglite.runExclusive(() =>
        this.pglite.execProtocolRawStream(job.message, {
          onRawData: (data) => {
            bytes += data.length;
            if (data.length >= 6) tail = data.slice(-6);
            else {
              const joined = new Uint8Array(tail.length + data.length);
              joined.set(tail);
              joined.set(data, tail.length);
              tail = joined.slice(-6);
            }
            job.onData(data);
          },
        }),
      );
    } catch (error) {
      // The connection errors out and closes; its detach resets the session.
      this.owner = job.handlerId;
      job.reject(error as Error);
      return;
    }
    const idle = tail.length === 6 && tail[0] === READY_FOR_QUERY && tail[5] === IDLE;
    this.owner = idle ? null : job.handlerId;
    job.resolve(bytes);
  }

  /**
   * Back to idle after a connection left in the middle of something. A simple ROLLBACK ends an open
   * transaction block or the implicit transaction of an extended query (the backend ignores it while
   * it waits for a Sync after an error); the Sync ends the extended query, and a block left in the
   * failed state needs one more ROLLBACK.
   */
  private async resetSession(): Promise<void> {
    await this.pglite.runExclusive(async () => {
      await this.pglite.execProtocolRaw(ROLLBACK_QUERY);
      await this.pglite.execProtocolRaw(SYNC);
      if (this.pglite.isInTransaction()) await this.pglite.execProtocolRaw(ROLLBACK_QUERY);
    });
  }
}

export type PgliteServer = { socketPath: string; close(): Promise<void> };

/**
 * Serve `pglite` on the Unix socket `socketPath` (a directory only this user can enter holds it:
 * the socket has no password). The caller holds the data dir's lock, so a socket file left there
 * by a process that died is stale and is replaced.
 */
export async function servePglite(pglite: PGlite, socketPath: string): Promise<PgliteServer> {
  const dir = path.dirname(socketPath);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  rmSync(socketPath, { force: true });
  const queue = new SessionQueue(pglite);
  const handlers = new Set<PGLiteSocketHandler>();
  const server = createServer((socket: Socket) => {
    const handler = new PGLiteSocketHandler({
      queryQueue: queue as unknown as PGLiteSocketHandlerOptions["queryQueue"],
      closeOnDetach: true,
    });
    handlers.add(handler);
    const forget = () => handlers.delete(handler);
    handler.addEventListener("close", forget);
    handler.addEventListener("error", forget);
    handler.attach(socket).catch(() => {
      forget();
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });
  let closed: Promise<void> | undefined;
  return {
    socketPath,
    close: () => {
      closed ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const handler of handlers) void handler.detach(true);
        });
        rmSync(socketPath, { force: true });
        try {
          rmdirSync(dir);
        } catch {
          // not empty (someone else's file) or already gone
        }
      })();
      return closed;
    },
  };
}
