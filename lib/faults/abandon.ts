import { AsyncLocalStorage } from "node:async_hooks";
import http from "node:http";
import type { PGlite } from "@electric-sql/pglite";
import type postgres from "postgres";

// Abandoned invocations: a serverless function can be stopped at any point between two statements
// (timeout, crash, redeploy). The suite runs every invocation inside an `Invocation` (async local
// storage) and wraps the database driver the app's Db is built on, so that at the invocation's
// planned boundary (its Nth statement or transaction commit, before or after it runs) the
// invocation dies: that statement and everything the invocation tries later never happens.
//
// "Never happens" is modelled as the process being gone, not as an error the code could handle:
//  - outside a transaction, every later statement, Stripe request and fetch of that invocation
//    waits for ever (nothing it does after its death reaches the database, Stripe or QStash);
//  - inside a transaction, the statement throws, so the driver rolls the transaction back and frees
//    its connection and locks, as Postgres does when a client's connection drops; the commit of an
//    abandoned transaction never happens.
// The harness learns of the death through `Invocation.dead` and carries on with a new invocation,
// as QStash and Vercel would.

export class AbandonedError extends Error {
  constructor(label: string) {
    super(`invocation ${label} abandoned (fault suite)`);
    this.name = "AbandonedError";
  }
}

/** Where an invocation dies: before or after its Nth boundary (statement or commit), 1-based. */
export type AbandonPlan = { boundary: number; phase: "before" | "after" };

export class Invocation {
  /** Statements and commits seen so far. */
  boundaries = 0;
  abandoned = false;
  /** What the invocation was doing when it died. */
  diedAt?: string;
  readonly dead: Promise<void>;
  private markDead!: () => void;

  constructor(
    readonly label: string,
    readonly plan: AbandonPlan | null,
  ) {
    this.dead = new Promise((resolve) => {
      this.markDead = resolve;
    });
  }

  abandon(where: string): void {
    if (this.abandoned) return;
    this.abandoned = true;
    this.diedAt = where;
    this.markDead();
  }

  /** Count a boundary; says whether the invocation dies before or after it. */
  checkpoint(): "go" | "before" | "after" {
    this.boundaries++;
    if (!this.plan || this.plan.boundary !== this.boundaries) return "go";
    return this.plan.phase;
  }
}

const invocations = new AsyncLocalStorage<Invocation>();
const transactions = new AsyncLocalStorage<true>();

/** Run `work` as one invocation: every statement and outgoing request it makes belongs to `invocation`. */
export function runInvocation<T>(invocation: Invocation, work: () => PromiseLike<T>): Promise<T> {
  // Awaited inside the context: Drizzle's queries are lazy and would otherwise start outside it.
  return invocations.run(invocation, async () => await work());
}

const currentInvocation = () => invocations.getStore();
const inTransaction = () => transactions.getStore() === true;

/** Never settles: what a dead process's next step looks like from inside it. */
function frozen<T>(): Promise<T> {
  return new Promise<T>(() => {});
}

/** What a dead invocation gets for a statement: an error inside a transaction (rollback), else nothing ever. */
function deadStatement<T>(invocation: Invocation, inTx: boolean): Promise<T> {
  if (!inTx) return frozen();
  const rejected = Promise.reject(new AbandonedError(invocation.label));
  rejected.catch(() => {});
  return rejected;
}

/** A promise that also answers the chained calls drivers make on a query (`.values()`, ...). */
function queryLike<T>(promise: Promise<T>): Promise<T> {
  const self = promise as Promise<T> & Record<string, unknown>;
  for (const method of ["values", "raw", "execute", "simple", "describe"]) self[method] = () => self;
  return self;
}

/**
 * One statement of the current invocation: runs it, or kills the invocation before or after it.
 * `run` must not start the statement before it is awaited (postgres.js queries are lazy), so the
 * "after" phase wraps the query's own `then` and keeps `.values()` working on the real query.
 */
function statement<Q extends PromiseLike<unknown>>(run: () => Q, describe: () => string): Q {
  const invocation = currentInvocation();
  if (!invocation) return run();
  const inTx = inTransaction();
  if (invocation.abandoned) return queryLike(deadStatement(invocation, inTx)) as unknown as Q;
  const decision = invocation.checkpoint();
  if (decision === "go") return run();
  if (decision === "before") {
    invocation.abandon(`before ${describe()}`);
    return queryLike(deadStatement(invocation, inTx)) as unknown as Q;
  }
  const query = run();
  const dieAfter = () => {
    invocation.abandon(`after ${describe()}`);
    return deadStatement(invocation, inTx);
  };
  return new Proxy(query as unknown as object, {
    get(target, property, receiver) {
      if (property === "then") {
        return (onFulfilled?: (v: unknown) => unknown, onRejected?: (e: unknown) => unknown) =>
          (target as PromiseLike<unknown>).then(dieAfter, dieAfter).then(onFulfilled, onRejected);
      }
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const result = value.apply(target, args);
        // .values() / .raw() return the query itself: keep answering through this proxy
        return result === target ? receiver : result;
      };
    },
  }) as Q;
}

const describeSql = (text: unknown) => `"${String(text).replace(/\s+/g, " ").trim().slice(0, 80)}"`;

/**
 * Run a transaction body as part of the current invocation, with a commit boundary at its end:
 * "before" throws (the driver rolls back: the commit never happens), "after" lets it commit and
 * kills the invocation before it learns so. A top-level transaction of a dead invocation never
 * settles, so no error handler of a dead process runs.
 */
async function transaction<T>(begin: (body: (tx: unknown) => Promise<T>) => Promise<T>, body: (tx: unknown) => Promise<T>, nested: boolean): Promise<T> {
  const invocation = currentInvocation();
  if (!invocation) return begin(body);
  if (invocation.abandoned) return deadStatement(invocation, nested);
  let diesAfterCommit = false;
  const result = begin((tx) =>
    transactions.run(true, async () => {
      const value = await body(tx);
      if (nested) return value;
      const decision = invocation.abandoned ? "before" : invocation.checkpoint();
      if (decision === "before") {
        invocation.abandon("before a commit");
        throw new AbandonedError(invocation.label);
      }
      if (decision === "after") diesAfterCommit = true;
      return value;
    }),
  );
  if (nested) return result;
  return result.then(
    (value) => {
      if (diesAfterCommit) invocation.abandon("after a commit");
      return invocation.abandoned ? frozen<T>() : value;
    },
    (error) => (invocation.abandoned ? frozen<T>() : Promise.reject(error)),
  );
}

type PostgresSql = postgres.Sql | postgres.TransactionSql;

/** postgres.js client whose statements and transactions belong to the current invocation. */
export function abandonablePostgres<S extends PostgresSql>(client: S): S {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === "unsafe") {
        return (query: string, params?: unknown[], options?: unknown) =>
          statement(
            () => (target as postgres.Sql).unsafe(query, params as never, options as never),
            () => describeSql(query),
          );
      }
      if (property === "begin") {
        return (...args: unknown[]) => {
          const body = args.at(-1) as (tx: unknown) => Promise<unknown>;
          const options = args.length > 1 ? (args[0] as string) : undefined;
          const begin = (wrapped: (tx: unknown) => Promise<unknown>) =>
            (options === undefined
              ? (target as postgres.Sql).begin((tx) => wrapped(abandonablePostgres(tx)))
              : (target as postgres.Sql).begin(options, (tx) => wrapped(abandonablePostgres(tx)))) as Promise<unknown>;
          return transaction(begin, body, false);
        };
      }
      if (property === "savepoint") {
        return (body: (tx: unknown) => Promise<unknown>) =>
          transaction(
            (wrapped) =>
              (target as postgres.TransactionSql).savepoint((tx) => wrapped(abandonablePostgres(tx))) as Promise<unknown>,
            body,
            true,
          );
      }
      return Reflect.get(target, property, receiver);
    },
  }) as S;
}

type PgliteLike = Pick<PGlite, "query" | "exec" | "transaction">;

/** PGlite instance (or its transaction) whose statements and transactions belong to the current invocation. */
export function abandonablePglite<P extends PgliteLike>(client: P, nested = false): P {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === "query" || property === "exec") {
        const method = Reflect.get(target, property, receiver) as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) => statement(() => method.apply(target, args), () => describeSql(args[0]));
      }
      if (property === "transaction" && !nested) {
        return (body: (tx: unknown) => Promise<unknown>) =>
          transaction(
            (wrapped) => target.transaction((tx) => wrapped(abandonablePglite(tx as unknown as PgliteLike, true)) as never) as Promise<unknown>,
            body,
            false,
          );
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as P;
}

let gatesInstalled = false;

/**
 * Outgoing HTTP of a dead invocation never leaves: Stripe's SDK (node:http, which Stripe documents
 * as patchable) and fetch (QStash's client). Installed once per process by the suite's worker.
 */
export function installRequestGates(): void {
  if (gatesInstalled) return;
  gatesInstalled = true;
  const request = http.request;
  http.request = function gatedRequest(this: unknown, ...args: unknown[]) {
    const invocation = currentInvocation();
    // The SDK treats this as a connection error; every retry meets the same fate, then its caller's
    // next statement never returns: nothing of a dead invocation reaches Stripe.
    if (invocation?.abandoned) throw new AbandonedError(invocation.label);
    return (request as (...a: unknown[]) => http.ClientRequest).apply(this, args);
  } as typeof http.request;
  const originalFetch = globalThis.fetch;
  globalThis.fetch = ((...args: Parameters<typeof fetch>) => {
    const invocation = currentInvocation();
    if (invocation?.abandoned) return deadStatement<Response>(invocation, inTransaction());
    return originalFetch(...args);
  }) as typeof fetch;
}
