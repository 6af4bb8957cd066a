import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectEmbedded, embeddedSocketPath, queryRows } from "@/db/client";
import { type PgliteServer, servePglite } from "@/db/pglite-server";
import { waitForLine } from "../../support/child";

// The embedded database served on a socket (db/pglite-server.ts): PGlite has one backend session, so
// each connection must get it whole, from its first message until the backend is idle again.

let pglite: PGlite;
let server: PgliteServer;
let dir: string;
const clients: postgres.Sql[] = [];

const client = (max = 1) => {
  const sql = postgres({
    path: server.socketPath,
    max,
    prepare: false,
    user: "postgres",
    database: "postgres",
    onnotice: () => {},
  });
  clients.push(sql);
  return sql;
};

/** A raw frontend message: type byte, length, body. */
const frontend = (type: string, body: Buffer) => {
  const out = Buffer.alloc(5 + body.length);
  out.write(type, 0);
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
};
const cstr = (s: string) => Buffer.from(`${s}\0`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client speaking the protocol by hand, to leave the session in states postgres.js never would. */
async function rawClient() {
  const socket = connect(server.socketPath);
  await new Promise((r) => socket.once("connect", r));
  const params = Buffer.concat([
    cstr("user"),
    cstr("postgres"),
    cstr("database"),
    cstr("postgres"),
    Buffer.from([0]),
  ]);
  const startup = Buffer.alloc(8 + params.length);
  startup.writeInt32BE(8 + params.length, 0);
  startup.writeInt32BE(196608, 4);
  params.copy(startup, 8);
  socket.write(startup);
  await sleep(100);
  const parseBindExecute = (statement: string) =>
    Buffer.concat([
      frontend("P", Buffer.concat([cstr(""), cstr(statement), Buffer.from([0, 0])])),
      frontend("B", Buffer.concat([cstr(""), cstr(""), Buffer.from([0, 0, 0, 0, 0, 0])])),
      frontend("E", Buffer.concat([cstr(""), Buffer.from([0, 0, 0, 0])])),
      frontend("H", Buffer.alloc(0)),
    ]);
  return { socket, parseBindExecute };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "payrun-embedded-"));
  pglite = new PGlite();
  await pglite.waitReady;
  server = await servePglite(pglite, path.join(dir, "sock", ".s.PGSQL.5432"));
  await pglite.exec("create table t (seq serial primary key, id int unique not null, who text not null)");
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end({ timeout: 1 })));
  await server?.close();
  await pglite?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the embedded database's socket server", () => {
  it("never lets one connection's parameterised query bind another's statement", async () => {
    // postgres.js with prepare: false parses the unnamed statement, waits for its description, then
    // binds it: two connections interleaved message by message would swap statements. Different
    // shapes per connection, so a swap shows as a wrong row or a type error.
    const a = client();
    const b = client();
    const pool = client(4);
    const run = async (sql: postgres.Sql, tag: string, shape: number) => {
      const wrong: unknown[] = [];
      for (let i = 0; i < 300; i++) {
        const [row] =
          shape === 0
            ? await sql`select ${`${tag}${i}`}::text as v, ${i}::int as n, ${tag}::text as who`
            : shape === 1
              ? await sql`select ${i}::int as n, ${tag}::text as who, ${`${tag}${i}`}::text as v`
              : await sql`select ${tag}::text as who, ${`${tag}${i}`}::text as v, ${i}::int + 0 as n, ${[i]}::int[] as arr`;
        if (row?.v !== `${tag}${i}` || row?.who !== tag || row?.n !== i) wrong.push(row);
      }
      return wrong;
    };
    const results = await Promise.all([
      run(a, "a", 0),
      run(b, "b", 1),
      run(pool, "p", 2),
      run(pool, "q", 0),
      run(pool, "r", 1),
    ]);
    expect(results.flat()).toEqual([]);
  });

  it("keeps a transaction's statements together: another connection waits until it ends", async () => {
    const a = client();
    const b = client();
    await Promise.all([
      a.begin(async (tx) => {
        await tx`insert into t (id, who) values (1, ${"a"})`;
        await sleep(150);
        await tx`insert into t (id, who) values (2, ${"a"})`;
      }),
      (async () => {
        await sleep(50);
        await b`insert into t (id, who) values (3, ${"b"})`;
      })(),
    ]);
    const rows = await a`select id from t where id in (1, 2, 3) order by seq`;
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3]);
  });

  it("rolls back a connection that goes away inside a transaction, and serves the others", async () => {
    const c = client();
    const b = client();
    const abandoned = c
      .begin(async (tx) => {
        await tx`insert into t (id, who) values (10, ${"c"})`;
        await sleep(60_000);
      })
      .catch((error: Error) => error.message);
    await sleep(200);
    const waiting = b`select count(*)::int as n from t where id = 10`; // queued behind c's transaction
    await sleep(100);
    await c.end({ timeout: 0 });
    expect((await waiting)[0]?.n).toBe(0);
    expect(await abandoned).toMatch(/CONNECTION|closed/i);
    expect(pglite.isInTransaction()).toBe(false);
  });

  it("rolls back an extended query left before its Sync, and clears one left in error", async () => {
    const b = client();
    // Executed, never synced: a server rolls back such an implicit transaction when the client goes.
    const first = await rawClient();
    first.socket.write(first.parseBindExecute("insert into t (id, who) values (20, 'raw')"));
    await sleep(200);
    const waiting = b`select count(*)::int as n from t where id = 20`;
    await sleep(100);
    first.socket.destroy();
    expect((await waiting)[0]?.n).toBe(0);

    // An error puts the backend in "skip until Sync"; a client that leaves then must not leave the
    // next connection's messages skipped.
    const second = await rawClient();
    second.socket.write(second.parseBindExecute("select 1/0"));
    await sleep(200);
    const after = b`select ${"still served"}::text as v`;
    await sleep(100);
    second.socket.destroy();
    expect((await after)[0]?.v).toBe("still served");
    expect(pglite.isInTransaction()).toBe(false);
  });
});

describe("the embedded default across processes", () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = path.join(dir, "data");
  });

  it("the first process serves the data dir, another attaches, and takes over when the first dies", {
    timeout: 120_000,
  }, async () => {
    const first = spawn(process.execPath, ["--import", "tsx", "tests/support/embedded-db-process.ts"], {
      env: { ...process.env, NODE_ENV: "test", PGLITE_DIR: dataDir, DATABASE_URL: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    first.stderr!.on("data", () => undefined);
    try {
      const [, pid] = (await waitForLine(first, /serving (\d+)/)) as RegExpExecArray;
      expect(Number(readFileSync(`${dataDir}.lock`, "utf8"))).toBe(Number(pid));

      // This process is a client of the first: same rows, migrations already applied by the host.
      const handle = connectEmbedded(dataDir, { max: 2 });
      try {
        await handle.ready;
        expect(handle.kind).toBe("pglite-socket");
        const probe = await queryRows<{ pid: number }>(handle.db, sql`select pid from embedded_probe`);
        expect(probe.map((r) => r.pid)).toEqual([Number(pid)]);
        const [migrated] = await queryRows<{ n: number }>(
          handle.db,
          sql`select count(*)::int as n from payees`,
        );
        expect(migrated?.n).toBe(0);

        // The server dies without cleaning up (stale lock and socket): the next connection serves it here.
        first.kill("SIGKILL");
        await new Promise((r) => first.once("exit", r));
        let rows: { pid: number }[] = [];
        for (let attempt = 0; attempt < 3 && rows.length === 0; attempt++) {
          rows = await queryRows<{ pid: number }>(handle.db, sql`select pid from embedded_probe`).catch(
            () => [],
          );
        }
        expect(rows.map((r) => r.pid)).toEqual([Number(pid)]);
        expect(Number(readFileSync(`${dataDir}.lock`, "utf8"))).toBe(process.pid);
      } finally {
        await handle.close();
      }
      // Closing stopped serving: lock and socket are gone.
      expect(() => readFileSync(`${dataDir}.lock`)).toThrow();
      expect(() => readFileSync(embeddedSocketPath(dataDir))).toThrow();
    } finally {
      first.kill("SIGKILL");
    }
  });
});
